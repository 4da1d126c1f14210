/** createPostureEngine, the policy side: swaps (setPolicy), proposed policies (dryRun), and that they agree. */
import { expect } from 'chai';
import type { CheckDef } from '../../server/domain/types.js';
import { AppError } from '../../server/shared/errors.js';
import { CHECKS, fixture, mac, POLICY } from './engine-fixture.js';
import { applies, checkDef, HOUR, host, MIN, policy, resource, T0, tier } from './support.js';

describe('createPostureEngine: policy', () => {
  describe('setPolicy', () => {
    it('keeps the last good policy when a pass expression does not compile', () => {
      const f = fixture();
      f.report(mac);
      let caught: unknown;
      try {
        f.engine.setPolicy(POLICY, [...CHECKS, checkDef('broken', { pass: 'rows +' })], applies);
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(AppError).with.property('code', 'invalid');
      expect((caught as AppError).message).to.include('"broken"');
      expect(f.engine.checks().map((c) => c.id)).to.not.include('broken');
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    });

    it('refuses duplicate check ids', () => {
      const f = fixture();
      expect(() => f.engine.setPolicy(POLICY, [...CHECKS, checkDef('firewall', { pack: 'other' })], applies)).to.throw(
        AppError,
        /duplicate check id "firewall"/,
      );
    });

    it('carries statuses over by check id and lists the checks to re-evaluate', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      const changedDefs = CHECKS.map((c) =>
        c.id === 'os_version' ? { ...c, pass: 'version_at_least(rows[0].version, "15.0")' } : c,
      );
      const out = f.engine.setPolicy(
        policy([tier('medium', HOUR, ['firewall', 'screen_lock'])], [resource('staging', 'medium')]),
        [...changedDefs, checkDef('screen_lock')],
        applies,
      );
      expect(out.reevaluate).to.deep.equal([
        { checkId: 'os_version', queryKey: 'posture/os_version' },
        { checkId: 'screen_lock', queryKey: 'posture/screen_lock' },
      ]);
      expect(f.v('C02MAC', 'staging').reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'firewall:fail',
        'screen_lock:unknown',
      ]);
      expect(f.engine.verdict('C02MAC', 'prod-db', null, T0).kind).to.equal('unknown_resource');
    });
  });

  describe('setPolicy (titles)', () => {
    it('shows a new title and link on reasons carried over', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      f.engine.setPolicy(
        POLICY,
        CHECKS.map((c) =>
          c.id === 'firewall' ? { ...c, title: 'Firewall is on', remediationUrl: 'https://docs.example/fw' } : c,
        ),
        applies,
      );
      expect(f.v('C02MAC', 'prod-db').reasons[0]).to.deep.include({
        check: 'firewall',
        title: 'Firewall is on',
        remediation_url: 'https://docs.example/fw',
        message: 'firewall is not OK',
      });
    });
  });

  describe('dryRun', () => {
    it('names devices a proposed policy would newly deny or allow, per resource', () => {
      const f = fixture();
      f.report(mac, { os_version: [{ version: '12.1' }] });
      f.report(host(4, 'C02FW', { lastSeenAt: T0 }), { firewall: [] });
      f.report(host(5, 'C02OK'));
      const proposed = policy(
        [
          tier('high', 15 * MIN, ['disk_encryption', 'firewall', 'os_version']),
          tier('medium', HOUR, ['disk_encryption']),
          tier('low', 24 * HOUR, ['osquery_healthy']),
        ],
        [
          resource('prod-db', 'high'),
          resource('staging', 'high'),
          resource('wiki', 'low', 'enforce'),
          resource('new', 'medium'),
        ],
      );
      f.report(host(6, 'C02BAD'), { osquery_healthy: [] });
      const r = f.engine.dryRun(proposed, f.clock.now());
      const by = Object.fromEntries(r.resources.map((x) => [x.resource, x]));
      expect(r.devices).to.equal(4);
      expect(by.staging).to.deep.include({
        tier_before: 'medium',
        tier_after: 'high',
        newly_denied: ['C02MAC'],
        newly_allowed: [],
      });
      expect(by.wiki).to.deep.include({
        mode_before: 'monitor',
        mode_after: 'enforce',
        newly_denied: ['C02BAD'],
        newly_allowed: [],
      });
      expect(by['prod-db']).to.deep.include({ newly_denied: [], newly_allowed: [], denied_before: 2, denied_after: 2 });
      expect(by.new).to.deep.include({ tier_before: null, newly_allowed: ['C02BAD', 'C02FW', 'C02MAC', 'C02OK'] });
      expect(f.v('C02MAC', 'staging').decision).to.equal('allow');
    });

    it('uses proposed check definitions and reports them as changed', () => {
      const f = fixture();
      f.report(mac);
      const r = f.engine.dryRun(POLICY, f.clock.now(), [
        ...CHECKS.map((c) => (c.id === 'firewall' ? { ...c, platform: 'linux' } : c)),
        checkDef('new_check'),
      ]);
      expect(r.changed_checks).to.deep.equal(['new_check']);
      expect(r.resources.every((x) => x.newly_denied.length === 0)).to.equal(true);
    });
  });

  describe('dryRun and setPolicy', () => {
    // One answer to "did this check's definition change": what a swap re-evaluates is what a dry run
    // reports. A check moved to another pack has another query key, so its stored result is another's.
    const edits: Array<[string, (c: CheckDef) => CheckDef, boolean]> = [
      ['its SQL', (c) => ({ ...c, sql: 'SELECT 2 AS firewall;' }), true],
      ['its pass expression', (c) => ({ ...c, pass: 'size(rows) > 1' }), true],
      ['its message', (c) => ({ ...c, message: 'Turn the firewall on.' }), true],
      ['its pack', (c) => ({ ...c, pack: 'other' }), true],
      ['its title', (c) => ({ ...c, title: 'Firewall' }), false],
      ['its remediation link', (c) => ({ ...c, remediationUrl: 'https://docs.example/fw' }), false],
      ['its platform', (c) => ({ ...c, platform: 'linux' }), false],
      ['nothing', (c) => ({ ...c }), false],
    ];
    for (const [what, edit, changed] of edits) {
      it(`agree that a check is ${changed ? '' : 'not '}changed when ${what} changes`, () => {
        const f = fixture();
        f.report(mac);
        const proposed = CHECKS.map((c) => (c.id === 'firewall' ? edit(c) : c));
        const dry = f.engine.dryRun(POLICY, f.clock.now(), proposed).changed_checks;
        const swap = f.engine.setPolicy(POLICY, proposed, applies).reevaluate;
        expect(dry).to.deep.equal(changed ? ['firewall'] : []);
        expect(swap.map((r) => r.checkId)).to.deep.equal(dry);
        const fw = proposed.find((c) => c.id === 'firewall');
        if (changed) expect(swap[0]?.queryKey).to.equal(`${fw?.pack ?? ''}/firewall`);
      });
    }
    it('agree that a new check is changed', () => {
      const f = fixture();
      const proposed = [...CHECKS, checkDef('screen_lock')];
      expect(f.engine.dryRun(POLICY, T0, proposed).changed_checks).to.deep.equal(['screen_lock']);
      expect(f.engine.setPolicy(POLICY, proposed, applies).reevaluate).to.deep.equal([
        { checkId: 'screen_lock', queryKey: 'posture/screen_lock' },
      ]);
    });
  });
});
