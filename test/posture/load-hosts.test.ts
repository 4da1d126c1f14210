/**
 * engine.loadHosts (the warm start's bulk load from check-state columns): one bulk load of the whole
 * fleet, with the columns read for the store's view of the check ids, builds exactly what loading the
 * hosts one at a time builds (same verdicts, reports, rechecks, bundle), and its verdicts are those the
 * reference computes from the full CheckState objects.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { CheckDef, CheckState, CheckStatus, Host, Platform } from '../../server/domain/types.js';
import { createPostureEngine, type PostureEngine } from '../../server/posture/engine.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';
import { computeVerdict } from './reference-verdict.js';
import { applies, checkDef, HOUR, host, MIN, policy, resource, T0, tier, toColumns } from './support.js';

const IDS = ['c0', 'c1', 'c2', 'c3', 'c4'];

const hostArb = fc.record({
  serial: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
  platform: fc.constantFrom<Platform>('darwin', 'windows', 'linux'),
  conflict: fc.boolean(),
  lastSeenAgo: fc.integer({ min: 0, max: HOUR }),
  states: fc.array(
    fc.option(
      fc.record({
        status: fc.constantFrom<CheckStatus>('pass', 'pass', 'fail', 'unknown', 'error'),
        ageMs: fc.integer({ min: 0, max: 2 * HOUR }),
        failedFor: fc.option(fc.integer({ min: 0, max: HOUR }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    { minLength: IDS.length, maxLength: IDS.length },
  ),
});

function scenario(raw: Array<typeof hostArb extends fc.Arbitrary<infer H> ? H : never>) {
  const hosts: Host[] = raw.map((h, i) =>
    host(i + 1, h.serial, {
      platform: h.platform,
      osPlatform: h.platform,
      serialConflict: h.conflict,
      lastSeenAt: T0 - h.lastSeenAgo,
      hostname: `h${i}`,
    }),
  );
  const states: CheckState[] = [];
  raw.forEach((h, i) =>
    IDS.forEach((id, k) => {
      const st = h.states[k];
      if (!st) return;
      const observedAt = st.status === 'unknown' ? null : T0 - st.ageMs;
      states.push({
        hostId: i + 1,
        checkId: id,
        status: st.status,
        observed: [{ v: '1' }],
        message: `${id} failed on h${i}`,
        observedAt,
        firstFailedAt: st.status === 'fail' && observedAt !== null ? observedAt - (st.failedFor ?? 0) : null,
        lastPassedAt: st.status === 'pass' ? observedAt : st.failedFor === undefined ? null : T0 - 3 * HOUR,
        error: st.status === 'error' ? `boom ${i}` : null,
        resultSeq: observedAt === null ? null : i * 10 + k,
      });
    }),
  );
  // a state of a check no pack defines, and one of a host that is not stored: both ignored
  states.push({
    hostId: 1,
    checkId: 'gone',
    status: 'fail',
    observed: [],
    message: 'x',
    observedAt: T0,
    firstFailedAt: T0,
    lastPassedAt: null,
    error: null,
    resultSeq: null,
  });
  states.push({
    hostId: 999,
    checkId: 'c0',
    status: 'fail',
    observed: [],
    message: 'x',
    observedAt: T0,
    firstFailedAt: T0,
    lastPassedAt: null,
    error: null,
    resultSeq: null,
  });
  return { hosts, states };
}

const POLICY = policy(
  [tier('strict', 15 * MIN, ['c0', 'c1', 'c2', 'ghost']), tier('basic', HOUR, ['c3', 'c4'])],
  [resource('prod', 'strict'), resource('wiki', 'basic', 'monitor'), resource('lost', 'nope')],
);
const SERIALS = ['A', 'B', 'C', 'D', 'E', 'Z'];
const RESOURCES = ['prod', 'wiki', 'lost'];
const TIMES = [T0, T0 + 20 * MIN, T0 + 2 * HOUR];

function engineWith(checks: CheckDef[]): PostureEngine {
  const engine = createPostureEngine({ clock: new ManualClock(T0), log: silentLogger() });
  engine.setPolicy(POLICY, checks, applies);
  return engine;
}

async function observe(engine: PostureEngine): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const serial of SERIALS) {
    for (const res of RESOURCES) for (const now of TIMES) out.push(engine.verdict(serial, res, 'alice', now));
    out.push(engine.tierReport(serial, 'strict', T0), engine.tierReport(serial, 'basic', T0 + 30 * MIN));
    out.push(engine.failingOrStaleChecks(serial, T0), engine.failingOrStaleChecks(serial, T0 + HOUR, 'basic'));
  }
  out.push((await engine.bundleInChunks()).json, engine.stats());
  return out;
}

describe('posture/engine loadHosts', () => {
  const checks: CheckDef[] = IDS.map((id, i) =>
    checkDef(id, { platform: [undefined, 'darwin', 'linux', 'windows,linux', undefined][i] }),
  );

  it('builds the same verdicts, reports and bundle in one bulk load as host by host', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostArb, { minLength: 1, maxLength: 8 }), async (raw) => {
        const { hosts, states } = scenario(raw);
        const one = engineWith(checks);
        for (const h of hosts)
          one.loadHosts(
            [h],
            toColumns(
              states.filter((s) => s.hostId === h.id),
              IDS,
            ),
            IDS,
          );
        const bulk = engineWith(checks);
        // the columns are read for the store's view of the check ids (any order, plus one no pack defines)
        const ids = ['gone', ...[...IDS].reverse()];
        bulk.loadHosts(hosts, toColumns(states, ids), ids);
        expect(await observe(bulk)).to.deep.equal(await observe(one));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the verdicts the reference computes from the full check states', () => {
    fc.assert(
      fc.property(fc.array(hostArb, { minLength: 1, maxLength: 8 }), (raw) => {
        const { hosts, states } = scenario(raw);
        const ids = ['gone', ...[...IDS].reverse()];
        const engine = engineWith(checks);
        engine.loadHosts(hosts, toColumns(states, ids), ids);
        for (const serial of SERIALS) {
          const devices = hosts.filter((h) => h.serial === serial);
          const only = devices.length === 1 ? devices[0] : undefined;
          const mine = new Map(states.filter((s) => s.hostId === only?.id).map((s) => [s.checkId, s]));
          for (const res of RESOURCES) {
            const r = POLICY.resources[res] ?? resource(res, 'nope');
            for (const now of TIMES) {
              const reference = computeVerdict({
                serial,
                user: 'alice',
                resource: r,
                tier: POLICY.tiers[r.tier],
                devices,
                states: mine,
                checks: new Map(checks.map((c) => [c.id, c])),
                applies,
                now,
              });
              expect(engine.verdict(serial, res, 'alice', now), `${serial} ${res} ${now}`).to.deep.equal({
                kind: 'verdict',
                verdict: reference,
              });
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('replaces what a host had when it is loaded again, and loads nothing for no hosts', () => {
    const { hosts, states } = scenario([
      {
        serial: 'A',
        platform: 'darwin',
        conflict: false,
        lastSeenAgo: 0,
        states: IDS.map(() => ({ status: 'fail' as const, ageMs: 0, failedFor: undefined })),
      },
    ]);
    const engine = engineWith(checks);
    engine.loadHosts([], toColumns(states, IDS), IDS);
    expect(engine.stats().hosts).to.equal(0);
    engine.loadHosts(hosts, toColumns(states, IDS), IDS);
    expect(engine.verdict('A', 'prod', null, T0)).to.have.nested.property('verdict.decision', 'deny');
    const passing = states.map((s) => ({
      ...s,
      status: 'pass' as const,
      firstFailedAt: null,
      lastPassedAt: s.observedAt,
    }));
    engine.loadHosts(hosts, toColumns(passing, IDS), IDS);
    expect(engine.verdict('A', 'prod', null, T0))
      .to.have.nested.property('verdict.reasons')
      .that.deep.equals([
        {
          check: 'ghost',
          status: 'missing',
          title: 'ghost',
          message: 'The policy requires this check, but no loaded pack defines it.',
          remediation_url: null,
          observed_at: null,
        },
      ]);
    expect(engine.stats().hosts).to.equal(1);
  });
});
