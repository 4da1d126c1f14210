/**
 * In-process posture benchmark (for `npm run bench`): a synthetic fleet of `hosts` devices with
 * `checks` checks each (a third with CEL pass expressions), three tiers and three resources.
 * Measures result evaluation (onResults: CEL / default semantics, state diff, tier records) and the
 * decision lookup (verdict), and reports heap growth of the engine's in-memory state.
 */
import type { CheckDef, Host, LatestResult, Platform, Policy } from '../domain/types.js';
import { ManualClock } from '../shared/clock.js';
import { silentLogger } from '../shared/log.js';
import { createPostureEngine, type PostureEngine } from './engine.js';
import type { AppliesFn } from './verdict.js';

export interface PostureBenchOptions {
  hosts?: number;
  checks?: number;
  /** Verdict lookups to time (default: 5 × hosts). */
  lookups?: number;
}

export interface PostureBenchResult {
  hosts: number;
  checks: number;
  evaluations: number;
  evaluationsPerSecond: number;
  lookups: number;
  lookupsPerSecond: number;
  /** Heap (+ array buffers) held by the loaded engine (MiB); exact only under `node --expose-gc`. */
  heapMiB: number;
  rssMiB: number;
  allowRatio: number;
}

const PLATFORMS: Platform[] = ['darwin', 'windows', 'linux'];

export function syntheticChecks(n: number): CheckDef[] {
  return Array.from({ length: n }, (_, i): CheckDef => ({
    id: `check_${i}`,
    pack: 'bench',
    sql: `SELECT ${i} AS n, '14.${i % 7}.1' AS version;`,
    platform: i % 5 === 4 ? PLATFORMS[i % 3] : undefined,
    intervalSeconds: 300,
    snapshot: true,
    title: `Check ${i}`,
    message: `Check ${i} reports version {{version}}.`,
    pass: i % 3 === 0 ? 'size(rows) > 0 && version_at_least(rows[0].version, "14.2")' : undefined,
    severity: 'medium',
  }));
}

export function syntheticPolicy(checks: readonly CheckDef[]): Policy {
  const ids = checks.map((c) => c.id);
  return {
    tiers: {
      high: { name: 'high', maxAgeMs: 15 * 60_000, checks: ids },
      medium: { name: 'medium', maxAgeMs: 3_600_000, checks: ids.slice(0, Math.ceil(ids.length / 2)) },
      low: { name: 'low', maxAgeMs: 86_400_000, checks: ids.slice(0, 2) },
    },
    resources: {
      'prod-db': { name: 'prod-db', tier: 'high', mode: 'enforce', hosts: [] },
      staging: { name: 'staging', tier: 'medium', mode: 'enforce', hosts: [] },
      wiki: { name: 'wiki', tier: 'low', mode: 'monitor', hosts: [] },
    },
    breakGlass: { maxDurationMs: 4 * 3_600_000, limit: { count: 3, windowMs: 30 * 86_400_000 }, approval: {} },
    source: null,
  };
}

const simpleApplies: AppliesFn = (c, h) => c.platform === undefined || c.platform.split(',').includes(h.platform);

export function syntheticHost(i: number, now: number): Host {
  const platform = PLATFORMS[i % 3] ?? 'linux';
  return {
    id: i + 1,
    serial: `SER${String(i).padStart(7, '0')}`,
    hardwareUuid: `uuid-${i}`,
    hostIdentifier: `host-${i}`,
    hostname: `host-${i}.corp.example`,
    platform,
    osPlatform: platform,
    osName: platform,
    osVersion: '1.0',
    osqueryVersion: '5.12.1',
    hardwareVendor: 'vendor',
    hardwareModel: 'model',
    enrolledAt: now,
    lastSeenAt: now,
    serialConflict: false,
    enrollSecretName: 'default',
    enrollState: 'active',
    pendingReason: null,
    cert: null,
  };
}

function resultsFor(host: Host, checks: readonly CheckDef[], now: number, round: number): LatestResult[] {
  return checks.map((c, j) => {
    const failing = (host.id * 31 + j * 7 + round) % 23 === 0;
    const rows = failing ? [] : [{ n: String(j), version: `14.${(host.id + j + round) % 7}.1` }];
    return {
      hostId: host.id,
      queryKey: `bench/${c.id}`,
      rows,
      observedAt: now,
      epoch: 0,
      counter: round,
      error: null,
      updatedAt: now,
      seq: round,
    };
  });
}

/** A loaded engine over a synthetic fleet (exported for other benchmarks that need a realistic posture state). */
export function buildBenchEngine(
  hosts: number,
  checkCount: number,
  clock: ManualClock,
): { engine: PostureEngine; fleet: Host[]; checks: CheckDef[] } {
  const checks = syntheticChecks(checkCount);
  const fleet = Array.from({ length: hosts }, (_, i) => syntheticHost(i, clock.now()));
  return { engine: loadFleet(fleet, checks, clock), fleet, checks };
}

function loadFleet(fleet: readonly Host[], checks: readonly CheckDef[], clock: ManualClock): PostureEngine {
  const engine = createPostureEngine({ clock, log: silentLogger() });
  engine.setPolicy(syntheticPolicy(checks), checks, simpleApplies);
  for (const h of fleet) engine.onResults(h, resultsFor(h, checks, clock.now(), 0));
  return engine;
}

export function benchEvaluations(opts: PostureBenchOptions = {}): PostureBenchResult {
  const hostCount = opts.hosts ?? 10_000;
  const checkCount = opts.checks ?? 15;
  const lookups = opts.lookups ?? hostCount * 5;
  const clock = new ManualClock();
  const checks = syntheticChecks(checkCount);
  const fleet = Array.from({ length: hostCount }, (_, i) => syntheticHost(i, clock.now()));
  // Run with `node --expose-gc` for a meaningful heap figure (the engine's own state only).
  const gc = (globalThis as { gc?: () => void }).gc;
  const used = (): number => {
    gc?.();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const heap0 = used();
  const engine = loadFleet(fleet, checks, clock);
  const heapMiB = (used() - heap0) / 2 ** 20;

  clock.advance(60_000);
  const t0 = performance.now();
  let evaluations = 0;
  for (const h of fleet) {
    const latest = resultsFor(h, checks, clock.now(), 1);
    engine.onResults(h, latest);
    evaluations += latest.length;
  }
  const evalMs = performance.now() - t0;

  const resources = ['prod-db', 'staging', 'wiki'];
  let allowed = 0;
  const now = clock.now();
  const t1 = performance.now();
  for (let i = 0; i < lookups; i++) {
    const h = fleet[i % fleet.length];
    if (!h) continue;
    const out = engine.verdict(h.serial, resources[i % 3] ?? 'prod-db', 'alice', now);
    if (out.kind === 'verdict' && out.verdict.decision === 'allow') allowed++;
  }
  const lookMs = performance.now() - t1;
  return {
    hosts: hostCount,
    checks: checkCount,
    evaluations,
    evaluationsPerSecond: Math.round(evaluations / (evalMs / 1000)),
    lookups,
    lookupsPerSecond: Math.round(lookups / (lookMs / 1000)),
    heapMiB: Math.round(heapMiB),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    allowRatio: allowed / Math.max(1, lookups),
  };
}
