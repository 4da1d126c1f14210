import { expect } from 'chai';
import type { BreakGlassGrant, CheckDef, CheckState, Host } from '../../server/domain/types.js';
import type { Verdict, VerdictBundle, VerdictLookup } from '../../server/domain/verdict.js';
import { createPostureEngine, type PostureEngine } from '../../server/posture/engine.js';
import { ManualClock } from '../../server/shared/clock.js';
import { AppError } from '../../server/shared/errors.js';
import { silentLogger } from '../../server/shared/log.js';
import {
  applies,
  checkDef,
  HOUR,
  host,
  latest,
  loadStates,
  MIN,
  policy,
  resource,
  state,
  T0,
  tier,
} from './support.js';

const CHECKS = [
  checkDef('os_version', {
    platform: 'darwin',
    pass: 'size(rows) > 0 && version_at_least(rows[0].version, "12.4")',
    title: 'macOS is up to date',
    message: 'Your macOS is {{version}}; we need 12.4 or later.',
    remediationUrl: 'https://docs.example/os',
  }),
  checkDef('disk_encryption'),
  checkDef('firewall'),
  checkDef('bitlocker', { platform: 'windows' }),
  checkDef('osquery_healthy'),
];
const POLICY = policy(
  [
    tier('high', 15 * MIN, ['disk_encryption', 'firewall', 'os_version', 'bitlocker']),
    tier('medium', HOUR, ['disk_encryption', 'firewall']),
    tier('low', 24 * HOUR, ['osquery_healthy']),
  ],
  [resource('prod-db', 'high'), resource('staging', 'medium'), resource('wiki', 'low', 'monitor')],
);

const GOOD: Record<string, Array<Record<string, string>>> = {
  os_version: [{ version: '14.4.1 (23E224)' }],
  disk_encryption: [{ encrypted: '1' }],
  firewall: [{ global_state: '1' }],
  bitlocker: [{ protection_status: '1' }],
  osquery_healthy: [{ version: '5.12.1' }],
};

interface Fixture {
  clock: ManualClock;
  engine: PostureEngine;
  report(h: Host, rows?: Partial<typeof GOOD>, at?: number): ReturnType<PostureEngine['onResults']>;
  v(serial: string, res: string, user?: string | null): Verdict;
}

function fixture(): Fixture {
  const clock = new ManualClock(T0);
  const engine = createPostureEngine({ clock, log: silentLogger() });
  engine.setPolicy(POLICY, CHECKS, applies);
  const report = (h: Host, rows: Partial<typeof GOOD> = {}, at = clock.now()) =>
    engine.onResults(
      h,
      CHECKS.map((c) => latest(h.id, `posture/${c.id}`, rows[c.id] ?? GOOD[c.id] ?? [], at)),
    );
  const v = (serial: string, res: string, user: string | null = 'alice'): Verdict => {
    const out: VerdictLookup = engine.verdict(serial, res, user, clock.now());
    if (out.kind !== 'verdict') throw new Error(`no verdict: ${out.kind}`);
    return out.verdict;
  };
  return { clock, engine, report, v };
}

const mac = host(1, 'C02MAC');
const win = host(2, 'WIN123', { platform: 'windows', osPlatform: 'windows', hostname: 'win-2' });

function grant(over: Partial<BreakGlassGrant> = {}): BreakGlassGrant {
  return {
    id: 'bg1',
    serial: 'C02MAC',
    user: 'alice',
    resource: 'prod-db',
    tier: 'high',
    reason: 'incident 42',
    durationMs: 2 * HOUR,
    status: 'active',
    createdAt: T0,
    activatedAt: T0,
    expiresAt: T0 + 2 * HOUR,
    requestedBy: 'alice',
    approvedBy: null,
    revokedBy: null,
    reviewedBy: null,
    reviewedAt: null,
    decisionComment: null,
    ...over,
  };
}

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

    it('follows the arrival seq within a second: a same-second result delivered late never overwrites a later one', () => {
      const f = fixture();
      f.report(mac, {}, T0);
      // two results of the firewall in the same second: the passing one arrived last (seq 9), but the
      // commit of the failing one (seq 8) is delivered to the engine after it
      expect(
        f.engine.onResults(mac, [latest(1, 'posture/firewall', GOOD['firewall']!, T0 + 1000, { seq: 9 })]).changed,
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

    it('orders a future-stamped result by the second it arrived in, so a later recheck in that second replaces it', () => {
      const f = fixture();
      f.report(mac, {}, T0);
      // stamped 5 s ahead, arrived at T0 + 1.3 s
      f.engine.onResults(mac, [latest(1, 'posture/firewall', [], T0 + 6000, { updatedAt: T0 + 1300, seq: 20 })]);
      expect(f.v('C02MAC', 'prod-db').decision).to.equal('deny');
      // the recheck answer, stamped in whole seconds at T0 + 1 s, arrived after it
      f.engine.onResults(mac, [
        latest(1, 'posture/firewall', GOOD['firewall']!, T0 + 1000, { updatedAt: T0 + 1700, seq: 21 }),
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

  describe('failingOrStaleChecks', () => {
    it('lists applicable required checks that do not pass or are stale', () => {
      const f = fixture();
      f.report(mac, { firewall: [], bitlocker: [] });
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now())).to.deep.equal(['firewall']);
      f.clock.advance(16 * MIN);
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now())).to.deep.equal([
        'os_version',
        'disk_encryption',
        'firewall',
      ]);
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now(), 'medium')).to.deep.equal(['firewall']);
      expect(f.engine.failingOrStaleChecks('NOPE', f.clock.now())).to.deep.equal([]);
    });
  });

  describe('tierReport', () => {
    it('lists every check of the tier, failing first', () => {
      const f = fixture();
      f.report(mac, { os_version: [{ version: '12.1' }] });
      const rows = f.engine.tierReport('C02MAC', 'high', f.clock.now()) ?? [];
      expect(rows.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'os_version:fail',
        'disk_encryption:pass',
        'firewall:pass',
        'bitlocker:not_applicable',
      ]);
      expect(rows[0]).to.deep.include({
        message: 'Your macOS is 12.1; we need 12.4 or later.',
        observed_at: T0,
        first_failed_at: T0,
        last_passed_at: null,
      });
      expect(rows[1]).to.deep.include({ observed_at: T0, first_failed_at: null, last_passed_at: T0 });
      expect(f.engine.tierReport('NOPE', 'high', T0)).to.equal(undefined);
    });
  });

  describe('bundle', () => {
    it('changes its ETag only when verdict inputs change', () => {
      const f = fixture();
      f.report(mac);
      const a = f.engine.bundle();
      expect(f.engine.bundle().etag).to.equal(a.etag);
      f.report(mac);
      f.engine.updateHost({ ...mac, lastSeenAt: T0 + 5 * MIN });
      expect(f.engine.bundle().etag).to.equal(a.etag);
      f.report(mac, { firewall: [] });
      const b = f.engine.bundle();
      expect(b.etag).to.not.equal(a.etag);
      f.engine.addGrant(grant());
      const c = f.engine.bundle();
      expect(c.etag).to.not.equal(b.etag);
      f.clock.advance(2 * HOUR);
      expect(f.engine.bundle().etag).to.equal(b.etag);
    });

    it('marks conflicting serials and rebuilds a device entry after it changes', () => {
      const f = fixture();
      f.report(mac);
      f.report(win);
      const first = JSON.parse(f.engine.bundle().json) as VerdictBundle;
      expect(first.devices.map((d) => d.serial)).to.deep.equal(['C02MAC', 'WIN123']);
      f.report(host(3, 'C02MAC', { hardwareUuid: 'other', lastSeenAt: T0 + 1 }));
      f.engine.updateHost({ ...win, hostname: 'renamed' });
      const second = JSON.parse(f.engine.bundle().json) as VerdictBundle;
      expect(second.devices[0]).to.deep.equal({
        serial: 'C02MAC',
        hostname: 'host-3.local',
        platform: 'darwin',
        serial_conflict: true,
        tiers: {},
      });
      expect(second.devices[1]?.hostname).to.equal('renamed');
      f.engine.removeHost('C02MAC');
      expect((JSON.parse(f.engine.bundle().json) as VerdictBundle).devices.map((d) => d.serial)).to.deep.equal([
        'WIN123',
      ]);
    });

    it('is identical for identical content built by another engine', () => {
      const f1 = fixture();
      const f2 = fixture();
      f1.report(mac);
      f1.report(win);
      f2.report(win);
      f2.report(mac);
      expect(f1.engine.bundle()).to.deep.equal(f2.engine.bundle());
    });

    it('holds per-tier reasons and freshness for every device', () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      const body = JSON.parse(f.engine.bundle().json) as VerdictBundle;
      expect(body.resources).to.deep.equal({
        'prod-db': { tier: 'high', mode: 'enforce' },
        staging: { tier: 'medium', mode: 'enforce' },
        wiki: { tier: 'low', mode: 'monitor' },
      });
      expect(body.tiers.high).to.deep.equal({
        max_age_seconds: 900,
        checks: ['disk_encryption', 'firewall', 'os_version', 'bitlocker'],
      });
      const dev = body.devices[0];
      expect(dev).to.deep.include({ serial: 'C02MAC', serial_conflict: false, platform: 'darwin' });
      expect(dev?.tiers.high).to.deep.equal({
        reasons: [{ check: 'firewall', status: 'fail' }],
        fresh_until: '2026-11-27T12:15:00.000Z',
      });
      expect(dev?.tiers.low).to.deep.equal({ reasons: [], fresh_until: '2026-11-28T12:00:00.000Z' });
      expect(body.checks.os_version).to.deep.equal({
        title: 'macOS is up to date',
        remediation_url: 'https://docs.example/os',
      });
      expect(body.break_glass).to.deep.equal([]);
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
