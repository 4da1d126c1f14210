/**
 * The posture engine tests' shared world: five checks over three tiers and three resources, the rows
 * that pass each check, a fixture (engine + manual clock + `report` and `v` shorthands), two hosts
 * and a break-glass grant builder.
 */
import type { BreakGlassGrant, Host, Row } from '../../server/domain/types.js';
import type { Verdict, VerdictLookup } from '../../server/domain/verdict.js';
import { createPostureEngine, type PostureEngine } from '../../server/posture/engine.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';
import { must } from '../support/must.js';
import { applies, checkDef, HOUR, host, latest, MIN, policy, resource, T0, tier } from './support.js';

export const CHECKS = [
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
export const POLICY = policy(
  [
    tier('high', 15 * MIN, ['disk_encryption', 'firewall', 'os_version', 'bitlocker']),
    tier('medium', HOUR, ['disk_encryption', 'firewall']),
    tier('low', 24 * HOUR, ['osquery_healthy']),
  ],
  [resource('prod-db', 'high'), resource('staging', 'medium'), resource('wiki', 'low', 'monitor')],
);

export const GOOD: Record<string, Array<Record<string, string>>> = {
  os_version: [{ version: '14.4.1 (23E224)' }],
  disk_encryption: [{ encrypted: '1' }],
  firewall: [{ global_state: '1' }],
  bitlocker: [{ protection_status: '1' }],
  osquery_healthy: [{ version: '5.12.1' }],
};

export interface Fixture {
  clock: ManualClock;
  engine: PostureEngine;
  report(h: Host, rows?: Partial<typeof GOOD>, at?: number): ReturnType<PostureEngine['onResults']>;
  v(serial: string, res: string, user?: string | null): Verdict;
}

export function fixture(): Fixture {
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

export const mac = host(1, 'C02MAC');
export const win = host(2, 'WIN123', { platform: 'windows', osPlatform: 'windows', hostname: 'win-2' });

export function grant(over: Partial<BreakGlassGrant> = {}): BreakGlassGrant {
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

/** The rows that pass check `id`. */
export const good = (id: string): Row[] => must(GOOD[id], `passing rows of ${id}`);
