/**
 * Builders shared by the posture tests (plain data, no I/O), and `loadStates`: stored check states
 * into an engine through the warm start's entry point (PostureEngine.loadHosts).
 */
import {
  CHECK_STATUSES,
  type CheckDef,
  type CheckState,
  type CheckStateColumns,
  type Host,
  type LatestResult,
  type Policy,
  type Resource,
  type Row,
  type Tier,
} from '../../server/domain/types.js';
import type { PostureEngine } from '../../server/posture/engine.js';
import type { AppliesFn } from '../../server/posture/verdict.js';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export function checkDef(id: string, over: Partial<CheckDef> = {}): CheckDef {
  return {
    id,
    pack: 'posture',
    sql: `SELECT 1 AS ${id};`,
    intervalSeconds: 300,
    snapshot: true,
    title: `${id} title`,
    message: `${id} is not OK`,
    severity: 'high',
    ...over,
  };
}

export function host(id: number, serial: string, over: Partial<Host> = {}): Host {
  return {
    id,
    serial,
    hardwareUuid: `uuid-${id}`,
    hostIdentifier: `host-${id}`,
    hostname: `host-${id}.local`,
    platform: 'darwin',
    osPlatform: 'darwin',
    osName: 'macOS',
    osVersion: '14.4',
    osqueryVersion: '5.12.1',
    hardwareVendor: 'Apple Inc.',
    hardwareModel: 'Mac14,2',
    enrolledAt: T0 - HOUR,
    lastSeenAt: T0,
    serialConflict: false,
    enrollSecretName: 'default',
    enrollState: 'active',
    pendingReason: null,
    cert: null,
    ...over,
  };
}

export function latest(
  hostId: number,
  queryKey: string,
  rows: Row[],
  observedAt: number,
  over: Partial<LatestResult> = {},
): LatestResult {
  return {
    hostId,
    queryKey,
    rows,
    observedAt,
    epoch: 0,
    counter: 0,
    error: null,
    updatedAt: observedAt,
    seq: 0,
    ...over,
  };
}

export function state(
  hostId: number,
  checkId: string,
  status: CheckState['status'],
  observedAt: number | null,
  over: Partial<CheckState> = {},
): CheckState {
  return {
    hostId,
    checkId,
    status,
    observed: [],
    message: `${checkId} is not OK`,
    observedAt,
    firstFailedAt: status === 'fail' ? observedAt : null,
    lastPassedAt: status === 'pass' ? observedAt : null,
    error: null,
    resultSeq: null,
    ...over,
  };
}

export function tier(name: string, maxAgeMs: number, checks: string[]): Tier {
  return { name, maxAgeMs, checks };
}

export function resource(name: string, tierName: string, mode: Resource['mode'] = 'enforce'): Resource {
  return { name, tier: tierName, mode, hosts: [] };
}

export function policy(tiers: Tier[], resources: Resource[]): Policy {
  return {
    tiers: Object.fromEntries(tiers.map((t) => [t.name, t])),
    resources: Object.fromEntries(resources.map((r) => [r.name, r])),
    breakGlass: { maxDurationMs: 4 * HOUR, limit: { count: 3, windowMs: 30 * 24 * HOUR }, approval: {} },
    source: null,
  };
}

/** A simple stand-in for osquery platform matching: a comma list of platform families. */
export const applies: AppliesFn = (c, h) => c.platform === undefined || c.platform.split(',').includes(h.platform);

/** The columns CheckStateRepo.columns returns for `states`, read for `checkIds`. */
export function toColumns(states: readonly CheckState[], checkIds: readonly string[]): CheckStateColumns {
  const kept = states.filter((s) => checkIds.includes(s.checkId));
  const n = kept.length;
  const cols: CheckStateColumns = {
    length: n,
    hostId: new Float64Array(n),
    check: new Uint16Array(n),
    status: new Uint8Array(n),
    observedAt: new Float64Array(n),
    firstFailedAt: new Float64Array(n),
    lastPassedAt: new Float64Array(n),
    resultSeq: new Float64Array(n),
    message: new Map(),
    error: new Map(),
  };
  kept.forEach((s, i) => {
    cols.hostId[i] = s.hostId;
    cols.check[i] = checkIds.indexOf(s.checkId);
    cols.status[i] = CHECK_STATUSES.indexOf(s.status);
    cols.observedAt[i] = s.observedAt ?? NaN;
    cols.firstFailedAt[i] = s.firstFailedAt ?? NaN;
    cols.lastPassedAt[i] = s.lastPassedAt ?? NaN;
    cols.resultSeq[i] = s.resultSeq ?? NaN;
    if (s.status === 'fail') cols.message.set(i, s.message);
    if (s.status === 'error' && s.error !== null) cols.error.set(i, s.error);
  });
  return cols;
}

/**
 * Loads `hosts` with their stored `states` as the warm start does (control/evaluation.ts warmStart): the
 * store's columns read for the engine's check ids, then PostureEngine.loadHosts.
 */
export function loadStates(
  engine: Pick<PostureEngine, 'checks' | 'loadHosts'>,
  hosts: readonly Host[],
  states: readonly CheckState[],
): void {
  const ids = engine.checks().map((c) => c.id);
  engine.loadHosts(hosts, toColumns(states, ids), ids);
}
