/**
 * createPostureEngine, the device side: verdicts (SPEC §4), the break-glass overlay, results arriving
 * (changes, transitions, order), hosts loaded, updated and removed. Policy swaps and dry runs are in
 * engine-policy.test.ts; the reports and the bundle in engine-views.test.ts.
 */
import { expect } from 'chai';
import type { BreakGlassGrant, CheckState } from '../../server/domain/types.js';
import { CHECKS, fixture, good, grant, GOOD, mac, win } from './engine-fixture.js';
import { applies, HOUR, host, latest, loadStates, MIN, policy, resource, state, T0, tier } from './support.js';

describe('createPostureEngine', () => {
  describe('verdict', () => {
    it('allows a healthy, fresh device with the full SPEC §4 shape', () => {
      const f = fixture();
      f.report(mac);
      f.clock.advance(42_000);
      expect(f.v('C02MAC', 'prod-db')).to.deep.equal({
        decision: 'allow',
        enforced: true,
        would_deny: false,
        resource: 'prod-db',
        tier: 'high',
        serial: 'C02MAC',
        user: 'alice',
        reasons: [],
        break_glass: null,
        device: { hostname: 'host-1.local', platform: 'darwin', last_seen_at: '2026-11-27T12:00:00.000Z' },
        remediation_page: null,
        evaluated_at: '2026-11-27T12:00:42.000Z',
        data_age_seconds: 42,
      });
    });

    // The remediation link is the gateway's (it holds the signing key): test/gateway/api.test.ts covers it.
    it('denies a failing check with its interpolated message, and leaves the remediation link to the gateway', () => {
      const f = fixture();
      f.report(mac, { os_version: [{ version: '12.1' }] });
      const v = f.v('C02MAC', 'prod-db');
      expect(v).to.deep.include({ decision: 'deny', would_deny: true, remediation_page: null });
      expect(v.reasons).to.deep.equal([
        {
          check: 'os_version',
          status: 'fail',
          title: 'macOS is up to date',
          message: 'Your macOS is 12.1; we need 12.4 or later.',
          remediation_url: 'https://docs.example/os',
          observed_at: '2026-11-27T12:00:00.000Z',
        },
      ]);
      expect(f.v('C02MAC', 'staging').decision).to.equal('allow');
    });

    it('orders reasons fail, error, unknown (fail beats unknown beats pass)', () => {
      const f = fixture();
      f.engine.onResults(mac, [
        latest(1, 'posture/os_version', [], T0, { error: 'no such table' }),
        latest(1, 'posture/firewall', [], T0),
      ]);
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => [r.check, r.status])).to.deep.equal([
        ['firewall', 'fail'],
        ['os_version', 'error'],
        ['disk_encryption', 'unknown'],
      ]);
    });

    it('never lets a check for another platform block the device', () => {
      const f = fixture();
      f.report(mac, { bitlocker: [] });
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
      f.report(win, { bitlocker: [], os_version: [] });
      const v = f.v('WIN123', 'prod-db');
      expect(v.decision).to.equal('deny');
      expect(v.reasons.map((r) => r.check)).to.deep.equal(['bitlocker']);
    });

    it('recomputes applicability when a host changes platform', () => {
      const f = fixture();
      f.report(mac, { bitlocker: [] });
      f.engine.updateHost({ ...mac, platform: 'windows', osPlatform: 'windows' });
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => r.check)).to.deep.equal(['bitlocker']);
    });

    it('denies with unknown reasons when a known device has sent no data', () => {
      const f = fixture();
      f.engine.updateHost(mac);
      const v = f.v('C02MAC', 'staging');
      expect(v.decision).to.equal('deny');
      expect(v.data_age_seconds).to.equal(null);
      expect(v.reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'disk_encryption:unknown',
        'firewall:unknown',
      ]);
    });

    it('treats a result older than the tier budget as stale at decision time, and fresh data clears it', () => {
      const f = fixture();
      f.report(mac);
      f.clock.advance(15 * MIN);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
      f.clock.advance(1);
      const v = f.v('C02MAC', 'prod-db');
      expect(v.decision).to.equal('deny');
      expect(v.reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'disk_encryption:stale',
        'firewall:stale',
        'os_version:stale',
      ]);
      expect(v.reasons[0]?.message).to.match(/older than this resource allows \(15m\)/);
      expect(v.data_age_seconds).to.equal(900);
      expect(f.v('C02MAC', 'staging').decision).to.equal('allow');
      f.report(mac);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    });

    it('names only the stale checks when one result is older than the others', () => {
      const f = fixture();
      f.report(mac);
      f.clock.advance(10 * MIN);
      f.engine.onResults(mac, [
        latest(1, 'posture/firewall', GOOD.firewall ?? [], f.clock.now()),
        latest(1, 'posture/os_version', GOOD.os_version ?? [], f.clock.now()),
      ]);
      f.clock.advance(6 * MIN);
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'disk_encryption:stale',
      ]);
    });

    it('keeps a failing check as fail (not stale) when it is old', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      f.clock.advance(HOUR);
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'firewall:fail',
        'disk_encryption:stale',
        'os_version:stale',
      ]);
    });

    it('allows in monitor mode but says would_deny and why', () => {
      const f = fixture();
      f.report(mac, { osquery_healthy: [] });
      const v = f.v('C02MAC', 'wiki');
      expect(v).to.deep.include({ decision: 'allow', enforced: false, would_deny: true });
      expect(v.reasons.map((r) => r.check)).to.deep.equal(['osquery_healthy']);
      expect(v.remediation_page).to.equal(null);
    });

    it('denies an unknown device', () => {
      const f = fixture();
      const v = f.v('NOPE', 'prod-db');
      expect(v).to.deep.include({ decision: 'deny', would_deny: true, device: null, data_age_seconds: null });
      expect(v.reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal(['unknown_device:unknown_device']);
    });

    it('returns a typed not-found for an unknown resource', () => {
      const f = fixture();
      expect(f.engine.verdict('C02MAC', 'nope', null, T0)).to.deep.equal({
        kind: 'unknown_resource',
        resource: 'nope',
      });
    });

    it('denies a serial reported by two machines, even with a grant', () => {
      const f = fixture();
      f.report(mac);
      f.report(host(3, 'C02MAC', { hardwareUuid: 'other', lastSeenAt: T0 + 1, hostname: 'imposter' }));
      f.engine.addGrant(grant());
      const v = f.v('C02MAC', 'prod-db');
      expect(v).to.deep.include({ decision: 'deny', break_glass: null });
      expect(v.device?.hostname).to.equal('imposter');
      expect(v.reasons.map((r) => r.check)).to.deep.equal(['serial_conflict']);
      f.engine.removeHost('C02MAC', 3);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    });

    it('denies a host flagged with a serial conflict', () => {
      const f = fixture();
      f.report({ ...mac, serialConflict: true });
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => r.check)).to.deep.equal(['serial_conflict']);
    });

    it('denies with missing when the policy requires a check no pack defines', () => {
      const f = fixture();
      f.engine.setPolicy(
        policy([tier('high', 15 * MIN, ['firewall', 'ghost'])], [resource('prod-db', 'high'), resource('odd', 'nope')]),
        CHECKS,
        applies,
      );
      f.report(mac);
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal(['ghost:missing']);
      expect(f.v('C02MAC', 'odd').reasons.map((r) => `${r.check}:${r.status}`)).to.deep.equal(['nope:missing']);
    });
  });

  describe('break-glass overlay', () => {
    const cases: Array<[string, BreakGlassGrant, string | null, number, 'allow' | 'deny']> = [
      ['an active grant for this serial, user and tier', grant(), 'alice', 0, 'allow'],
      ['an expired grant', grant(), 'alice', 2 * HOUR, 'deny'],
      ['a grant for another user', grant({ user: 'bob' }), 'alice', 0, 'deny'],
      ['no user on the request', grant(), null, 0, 'deny'],
      ['a grant for another tier', grant({ tier: 'medium' }), 'alice', 0, 'deny'],
      ['a grant for another serial', grant({ serial: 'OTHER' }), 'alice', 0, 'deny'],
      ['a pending grant', grant({ status: 'pending', activatedAt: null }), 'alice', 0, 'deny'],
    ];
    for (const [when, g, user, later, want] of cases) {
      it(`${want === 'allow' ? 'allows' : 'denies'} with ${when}`, () => {
        const f = fixture();
        f.report(mac, { firewall: [] });
        f.engine.addGrant(g);
        f.clock.advance(later);
        f.report(mac, { firewall: [] });
        const v = f.v('C02MAC', 'prod-db', user);
        expect(v.decision).to.equal(want);
        expect(v.would_deny).to.equal(true);
        expect(v.reasons.map((r) => r.check)).to.deep.equal(['firewall']);
        expect(v.break_glass).to.deep.equal(
          want === 'allow' ? { id: 'bg1', expires_at: '2026-11-27T14:00:00.000Z', reason: 'incident 42' } : null,
        );
      });
    }
    it('covers every resource of the tier, for an unknown device too', () => {
      const f = fixture();
      f.engine.setActiveGrants([grant({ serial: 'NEW1', tier: 'medium', resource: 'other' })]);
      expect(f.v('NEW1', 'staging').decision).to.equal('allow');
      expect(f.v('NEW1', 'prod-db').decision).to.equal('deny');
    });
    it('stops applying a removed or replaced grant', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      f.engine.setActiveGrants([grant()]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
      f.engine.addGrant(grant({ status: 'revoked' }));
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('deny');
      f.engine.addGrant(grant());
      f.engine.removeGrant('bg1');
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('deny');
    });
  });

  describe('onResults', () => {
    it('returns changed states and tier transitions', () => {
      const f = fixture();
      const first = f.report(mac);
      expect(first.changed.map((s) => s.checkId)).to.have.members(CHECKS.map((c) => c.id));
      expect(first.transitions.map((t) => `${t.tier}:${t.from}->${t.to}`)).to.deep.equal([
        'high:deny->allow',
        'medium:deny->allow',
        'low:deny->allow',
      ]);
      f.clock.advance(MIN);
      const second = f.report(mac, { firewall: [] });
      expect(second.transitions).to.deep.equal([
        { serial: 'C02MAC', hostId: 1, tier: 'high', from: 'allow', to: 'deny', reasons: ['firewall'] },
        { serial: 'C02MAC', hostId: 1, tier: 'medium', from: 'allow', to: 'deny', reasons: ['firewall'] },
      ]);
      const fw = second.changed.find((s) => s.checkId === 'firewall');
      expect(fw).to.deep.include({ status: 'fail', firstFailedAt: T0 + MIN, lastPassedAt: T0 });
    });

    it('reports nothing for a re-sent identical result', () => {
      const f = fixture();
      f.report(mac);
      expect(f.report(mac)).to.deep.equal({ changed: [], transitions: [] });
    });

    it('reports a transition when fresh data arrives for a stale device', () => {
      const f = fixture();
      f.report(mac);
      f.clock.advance(20 * MIN);
      const out = f.report(mac);
      expect(out.transitions.map((t) => `${t.tier}:${t.from}->${t.to}`)).to.deep.equal(['high:deny->allow']);
    });

    it('never lets an older result overwrite a newer one', () => {
      const f = fixture();
      f.report(mac, {}, T0);
      const out = f.engine.onResults(mac, [latest(1, 'posture/firewall', [], T0 - MIN)]);
      expect(out.changed).to.deep.equal([]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    });

    it('follows the arrival seq in a second: a same-second result delivered late never overwrites a later one', () => {
      const f = fixture();
      f.report(mac, {}, T0);
      // two results of the firewall in the same second: the passing one arrived last (seq 9), but the
      // commit of the failing one (seq 8) is delivered to the engine after it
      expect(
        f.engine.onResults(mac, [latest(1, 'posture/firewall', good('firewall'), T0 + 1000, { seq: 9 })]).changed,
      ).to.have.length(1);
      const late = f.engine.onResults(mac, [
        latest(1, 'posture/firewall', [], T0 + 1400, { updatedAt: T0 + 1400, seq: 8 }),
      ]);
      expect(late.changed).to.deep.equal([]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
      // a later arrival in that second wins
      const next = f.engine.onResults(mac, [latest(1, 'posture/firewall', [], T0 + 1000, { seq: 10 })]);
      expect(next.changed.map((s) => [s.checkId, s.status, s.resultSeq])).to.deep.equal([['firewall', 'fail', 10]]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('deny');
    });

    it('orders a future-stamped result by its arrival second, so a later recheck in that second replaces it', () => {
      const f = fixture();
      f.report(mac, {}, T0);
      // stamped 5 s ahead, arrived at T0 + 1.3 s
      f.engine.onResults(mac, [latest(1, 'posture/firewall', [], T0 + 6000, { updatedAt: T0 + 1300, seq: 20 })]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('deny');
      // the recheck answer, stamped in whole seconds at T0 + 1 s, arrived after it
      f.engine.onResults(mac, [
        latest(1, 'posture/firewall', good('firewall'), T0 + 1000, { updatedAt: T0 + 1700, seq: 21 }),
      ]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    });

    it('accepts the bare check id as the query key and ignores unrelated queries', () => {
      const f = fixture();
      f.report(mac);
      const out = f.engine.onResults(mac, [latest(1, 'firewall', [], T0), latest(1, 'pack/other/usb', [], T0)]);
      expect(out.changed.map((s) => s.checkId)).to.deep.equal(['firewall']);
    });

    it('ignores results that belong to another host', () => {
      const f = fixture();
      f.report(mac);
      expect(f.engine.onResults(mac, [latest(99, 'posture/firewall', [], T0)]).changed).to.deep.equal([]);
    });
  });

  describe('loadHosts', () => {
    it('rebuilds verdicts from stored check states', () => {
      const f = fixture();
      const states: CheckState[] = [
        state(1, 'disk_encryption', 'pass', T0),
        state(1, 'firewall', 'fail', T0, { message: 'Firewall is off.' }),
        state(1, 'os_version', 'pass', T0),
        state(1, 'unknown_check', 'fail', T0),
      ];
      loadStates(f.engine, [mac], states);
      const v = f.v('C02MAC', 'prod-db');
      expect(v.reasons.map((r) => [r.check, r.message])).to.deep.equal([['firewall', 'Firewall is off.']]);
    });
  });

  describe('updateHost', () => {
    it('moves a host to its new serial', () => {
      const f = fixture();
      f.report(mac);
      f.engine.updateHost({ ...mac, serial: 'C02NEW' });
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => r.check)).to.deep.equal(['unknown_device']);
      expect(f.v('C02NEW', 'prod-db').decision).to.equal('allow');
      expect(f.engine.stats()).to.deep.include({ hosts: 1, serials: 1 });
    });
  });

  describe('removeHost', () => {
    it('forgets a device: its serial is unknown again, and the rest stays', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      f.report(win);
      f.engine.removeHost('C02MAC');
      expect(f.v('C02MAC', 'prod-db').reasons.map((r) => r.check)).to.deep.equal(['unknown_device']);
      expect(f.engine.failingOrStaleChecks('C02MAC', T0)).to.deep.equal([]);
      expect(f.engine.tierReport('C02MAC', 'high', T0)).to.equal(undefined);
      expect(f.engine.stats()).to.deep.include({ hosts: 1, serials: 1 });
      expect(f.v('WIN123', 'prod-db').decision).to.equal('allow');
    });
  });
});
