import { expect } from 'chai';
import type { BreakGlassGrant, CheckState } from '../../server/domain/types.js';
import { findGrant, sortReasons, type DeviceInfo } from '../../server/posture/verdict.js';
import { computeVerdict, type ComputeVerdictInput } from './reference-verdict.js';
import { applies, checkDef, HOUR, MIN, resource, state, T0, tier } from './support.js';

const CHECKS = [checkDef('a'), checkDef('b'), checkDef('win_only', { platform: 'windows' })];
const MAC: DeviceInfo = {
  serial: 'S1',
  hostname: 'mac',
  platform: 'darwin',
  osPlatform: 'darwin',
  lastSeenAt: T0,
  serialConflict: false,
};

function input(states: CheckState[], over: Partial<ComputeVerdictInput> = {}): ComputeVerdictInput {
  return {
    serial: 'S1',
    user: 'alice',
    resource: resource('r', 't'),
    tier: tier('t', 15 * MIN, ['a', 'b', 'win_only']),
    devices: [MAC],
    states: new Map(states.map((s) => [s.checkId, s])),
    checks: new Map(CHECKS.map((c) => [c.id, c])),
    applies,
    now: T0,
    ...over,
  };
}

describe('computeVerdict (the reference decision)', () => {
  const pass = (id: string, age = 0) => state(1, id, 'pass', T0 - age);
  const cases: Array<[string, ComputeVerdictInput, 'allow' | 'deny', boolean, string[]]> = [
    ['every applicable check passes', input([pass('a'), pass('b')]), 'allow', false, []],
    ['a check fails', input([pass('a'), state(1, 'b', 'fail', T0)]), 'deny', true, ['b:fail']],
    ['a check has no data', input([pass('a')]), 'deny', true, ['b:unknown']],
    ['a check errored', input([pass('a'), state(1, 'b', 'error', T0, { error: 'x' })]), 'deny', true, ['b:error']],
    ['a pass is older than max_age', input([pass('a', 16 * MIN), pass('b')]), 'deny', true, ['a:stale']],
    ['a pass is exactly max_age old', input([pass('a', 15 * MIN), pass('b')]), 'allow', false, []],
    [
      'fail, unknown and stale together',
      input([pass('a', HOUR)], {
        tier: tier('t', 15 * MIN, ['x', 'a', 'b']),
        checks: new Map([...CHECKS, checkDef('x')].map((c) => [c.id, c])),
        states: new Map([
          ['a', pass('a', HOUR)],
          ['x', state(1, 'x', 'fail', T0)],
        ]),
      }),
      'deny',
      true,
      ['x:fail', 'a:stale', 'b:unknown'],
    ],
    [
      'the policy names an undefined check',
      input([pass('a'), pass('b')], { tier: tier('t', 15 * MIN, ['a', 'ghost']) }),
      'deny',
      true,
      ['ghost:missing'],
    ],
    ['the tier does not exist', input([pass('a'), pass('b')], { tier: undefined }), 'deny', true, ['t:missing']],
    [
      'monitor mode with a failure',
      input([pass('a'), state(1, 'b', 'fail', T0)], { resource: resource('r', 't', 'monitor') }),
      'allow',
      true,
      ['b:fail'],
    ],
    ['the device is unknown', input([], { devices: [] }), 'deny', true, ['unknown_device:unknown_device']],
    [
      'two devices share the serial',
      input([pass('a'), pass('b')], { devices: [MAC, { ...MAC, hostname: 'other' }] }),
      'deny',
      true,
      ['serial_conflict:serial_conflict'],
    ],
    [
      'the device is flagged',
      input([pass('a'), pass('b')], { devices: [{ ...MAC, serialConflict: true }] }),
      'deny',
      true,
      ['serial_conflict:serial_conflict'],
    ],
    ['a windows-only check has no data on a mac', input([pass('a'), pass('b')]), 'allow', false, []],
  ];
  for (const [when, i, decision, wouldDeny, reasons] of cases) {
    it(`${decision === 'allow' ? 'allows' : 'denies'} when ${when}`, () => {
      const v = computeVerdict(i);
      expect({
        decision: v.decision,
        would_deny: v.would_deny,
        reasons: v.reasons.map((r) => `${r.check}:${r.status}`),
      }).to.deep.equal({ decision, would_deny: wouldDeny, reasons });
    });
  }

  it('reports the age of the oldest required result', () => {
    expect(computeVerdict(input([pass('a', 90_000), pass('b', 1000)])).data_age_seconds).to.equal(90);
  });

  // The signed link is added by the gateway's view of the engine (test/gateway/api.test.ts covers it).
  it('leaves the remediation link to the gateway, allowed or denied', () => {
    expect(computeVerdict(input([pass('a'), pass('b')])).remediation_page).to.equal(null);
    expect(computeVerdict(input([pass('a')])).remediation_page).to.equal(null);
  });
});

describe('findGrant', () => {
  const g: BreakGlassGrant = {
    id: 'g',
    serial: 'S1',
    user: 'alice',
    resource: 'r',
    tier: 't',
    reason: 'x',
    durationMs: HOUR,
    status: 'active',
    createdAt: T0,
    activatedAt: T0 + MIN,
    expiresAt: T0 + HOUR,
    requestedBy: 'alice',
    approvedBy: null,
    revokedBy: null,
    reviewedBy: null,
    reviewedAt: null,
    decisionComment: null,
  };
  const cases: Array<[string, number, boolean]> = [
    ['before activation', T0, false],
    ['at activation', T0 + MIN, true],
    ['just before expiry', T0 + HOUR - 1, true],
    ['at expiry', T0 + HOUR, false],
  ];
  for (const [when, now, found] of cases)
    it(`${found ? 'finds' : 'ignores'} a grant ${when}`, () =>
      expect(findGrant([g], 'S1', 'alice', 't', now) !== undefined).to.equal(found));
});

describe('sortReasons', () => {
  it('orders by status rank and keeps tier order within a rank', () => {
    const r = (check: string, status: 'fail' | 'unknown' | 'stale' | 'error' | 'missing') => ({
      check,
      status,
      title: '',
      message: '',
      remediation_url: null,
      observed_at: null,
    });
    expect(
      sortReasons([
        r('1', 'unknown'),
        r('2', 'fail'),
        r('3', 'missing'),
        r('4', 'stale'),
        r('5', 'fail'),
        r('6', 'error'),
      ]).map((x) => x.check),
    ).to.deep.equal(['2', '5', '6', '4', '1', '3']);
  });
});
