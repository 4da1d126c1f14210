/**
 * A pairing deny's reasons (`require_device_user`, posture/lookup.ts): the pairing reason first, then the
 * device's own; one frozen array per device state and reason, shared by every lookup, so the verdict's
 * JSON is made once (gateway/verdict-json.ts) as for any other deny; a new one once a result changes
 * the device's reasons. The real path is test/devices/pairing.test.ts.
 */
import { expect } from 'chai';
import type { DevicePeopleLookup } from '../../server/domain/ports.js';
import type { Verdict } from '../../server/domain/verdict.js';
import { createPostureEngine } from '../../server/posture/engine.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';
import { applies, checkDef, host, latest, MIN, policy, resource, T0, tier } from './support.js';

const CHECKS = [checkDef('disk_encryption'), checkDef('firewall')];
const PASS = { disk_encryption: [{ encrypted: '1' }], firewall: [{ global_state: '1' }] };
const paired = { ...tier('high', 15 * MIN, ['disk_encryption', 'firewall']), requireDeviceUser: true as const };

function world() {
  const clock = new ManualClock(T0);
  // bob is the only person of C02BOB; C02NOBODY has no known people
  const people: DevicePeopleLookup = {
    match: (serial, person) =>
      serial !== 'C02BOB' ? 'none' : person === 'bob@example.com' ? 'yes' : person === null ? 'no' : 'no',
  };
  const engine = createPostureEngine({ clock, log: silentLogger(), people });
  engine.setPolicy(policy([paired], [resource('prod-db', 'high')]), CHECKS, applies);
  const report = (id: number, serial: string, rows: Partial<typeof PASS>) => {
    const h = host(id, serial);
    engine.updateHost(h);
    engine.onResults(
      h,
      CHECKS.map((c) => latest(id, `posture/${c.id}`, rows[c.id as keyof typeof PASS] ?? [], clock.now())),
    );
  };
  const v = (serial: string, user: string | null): Verdict => {
    const out = engine.verdict(serial, 'prod-db', user, clock.now());
    if (out.kind !== 'verdict') throw new Error(`no verdict: ${out.kind}`);
    return out.verdict;
  };
  return { report, v };
}

const checksOf = (v: Verdict): string[] => v.reasons.map((r) => r.check);

describe('posture lookup: pairing deny reasons', () => {
  it('puts the pairing reason first, then the device reasons, in one frozen array per state and reason', () => {
    const w = world();
    w.report(1, 'C02BOB', { disk_encryption: PASS.disk_encryption }); // the firewall fails
    w.report(2, 'C02NOBODY', PASS);
    const eve = w.v('C02BOB', 'eve@example.com');
    expect(eve.decision).to.equal('deny');
    expect(checksOf(eve)).to.deep.equal(['device_user_mismatch', 'firewall']);
    expect(Object.isFrozen(eve.reasons)).to.equal(true);
    expect(w.v('C02BOB', 'mallory@example.com').reasons, 'another stranger, same state').to.equal(eve.reasons);
    const nobody = w.v('C02BOB', null);
    expect(checksOf(nobody)).to.deep.equal(checksOf(eve));
    expect(nobody.reasons[0]?.message, 'its own message: no person on the request').to.not.equal(
      eve.reasons[0]?.message,
    );
    expect(nobody.reasons.slice(1)).to.deep.equal(eve.reasons.slice(1));
    expect(w.v('C02BOB', null).reasons, 'no person, same state').to.equal(nobody.reasons);
    expect(checksOf(w.v('C02NOBODY', 'bob@example.com'))).to.deep.equal(['device_user_mismatch']);
    expect(w.v('C02BOB', 'bob@example.com').decision, 'the device person, firewall failing').to.equal('deny');
    expect(checksOf(w.v('C02BOB', 'bob@example.com'))).to.deep.equal(['firewall']);
  });

  it('gives a new array once a result changes the device reasons', () => {
    const w = world();
    w.report(1, 'C02BOB', { disk_encryption: PASS.disk_encryption });
    const before = w.v('C02BOB', 'eve@example.com').reasons;
    w.report(1, 'C02BOB', PASS);
    const after = w.v('C02BOB', 'eve@example.com');
    expect(after.reasons).to.not.equal(before);
    expect(checksOf(after)).to.deep.equal(['device_user_mismatch']);
    expect(w.v('C02BOB', 'bob@example.com').decision).to.equal('allow');
  });
});
