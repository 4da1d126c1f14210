/**
 * The one JSON shape of a host, written once for the admin API (GET /api/v1/hosts, GET
 * /api/v1/hosts/:serial) and the CLI (`trustgate hosts --json`, `trustgate host SERIAL --json`):
 * snake_case keys, ISO times, its decisions per resource, every check that applies to it (one without a
 * result yet as `unknown`), and a failure message only on a check that does not pass.
 */
import type { HostRepo, ResultRepo } from '../domain/ports.js';
import type { CheckDef, CheckState, Host, StatusLog } from '../domain/types.js';
import { isoOf } from '../shared/clock.js';
import { notFound } from '../shared/errors.js';
import { appliesTo } from '../control/model.js';
import type { HostSummary } from '../control/summary.js';

/** What reading a host takes; the server and the CLI both have it. */
export interface HostReadDeps {
  hosts: Pick<HostRepo, 'findBySerial' | 'details'>;
  results: Pick<ResultRepo, 'statusLogs'>;
  checkStates(hostId: number): Promise<CheckState[]>;
  summary(host: Host, now: number): HostSummary;
  /** The loaded checks, in load order. */
  checks(): readonly CheckDef[];
  /** When the host was last seen (the last-seen registry). */
  lastSeen(host: Host): number;
}

/** The host's own facts. */
export function hostJson(h: Host, lastSeenAt: number) {
  return {
    serial: h.serial,
    hardware_uuid: h.hardwareUuid,
    hostname: h.hostname,
    platform: h.platform,
    os_platform: h.osPlatform,
    os_name: h.osName,
    os_version: h.osVersion,
    osquery_version: h.osqueryVersion,
    hardware_vendor: h.hardwareVendor,
    hardware_model: h.hardwareModel,
    host_identifier: h.hostIdentifier,
    enrolled_at: isoOf(h.enrolledAt),
    last_seen_at: isoOf(lastSeenAt),
    serial_conflict: h.serialConflict,
    enroll_secret: h.enrollSecretName,
    enroll_state: h.enrollState,
    pending_reason: h.pendingReason,
  };
}

const isoOrNull = (t: number | null): string | null => (t === null ? null : isoOf(t));

/** One check of a host; `title` from its definition when it is loaded. */
export function checkJson(s: CheckState, def: CheckDef | undefined) {
  return {
    check: s.checkId,
    title: def?.title ?? s.checkId,
    status: s.status,
    message: s.status === 'pass' || s.message === '' ? null : s.message,
    observed: s.observed,
    error: s.error,
    observed_at: isoOrNull(s.observedAt),
    first_failed_at: isoOrNull(s.firstFailedAt),
    last_passed_at: isoOrNull(s.lastPassedAt),
  };
}

const noResult = (hostId: number, checkId: string): CheckState => ({
  hostId,
  checkId,
  status: 'unknown',
  observed: [],
  message: '',
  observedAt: null,
  firstFailedAt: null,
  lastPassedAt: null,
  error: null,
  resultSeq: null,
});

/** Every loaded check that applies to the host (in load order; `unknown` without a result), then any other stored. */
function hostChecks(h: Host, defs: readonly CheckDef[], states: readonly CheckState[]) {
  const stateOf = new Map(states.map((s) => [s.checkId, s]));
  const applicable = defs.filter((d) => appliesTo(d, h));
  const ids = new Set(applicable.map((d) => d.id));
  const defOf = new Map(defs.map((d) => [d.id, d]));
  return [
    ...applicable.map((d) => checkJson(stateOf.get(d.id) ?? noResult(h.id, d.id), d)),
    ...states.filter((s) => !ids.has(s.checkId)).map((s) => checkJson(s, defOf.get(s.checkId))),
  ];
}

export const statusLogJson = (s: StatusLog & { receivedAt: number }) => ({ ...s, received_at: isoOf(s.receivedAt) });

/** A host as the list shows it: its facts, whether any resource's posture would deny, its decisions. */
export function hostListEntry(deps: Pick<HostReadDeps, 'summary' | 'lastSeen'>, h: Host, now: number) {
  const summary = deps.summary(h, now);
  return { ...hostJson(h, deps.lastSeen(h)), failing: summary.failing, decisions: summary.decisions };
}

export type HostListEntry = ReturnType<typeof hostListEntry>;

/** One host in full: facts, host details, decisions, checks, the latest `statusLogs` status logs. */
async function hostDetailOf(deps: HostReadDeps, h: Host, now: number, statusLogs: number) {
  return {
    ...hostListEntry(deps, h, now),
    details: (await deps.hosts.details(h.id)) ?? null,
    checks: hostChecks(h, deps.checks(), await deps.checkStates(h.id)),
    status_logs: (await deps.results.statusLogs(h.id, statusLogs)).map(statusLogJson),
  };
}

export type HostDetail = Awaited<ReturnType<typeof hostDetailOf>>;

/**
 * GET /api/v1/hosts/:serial: `{host}`, or with a serial two machines report, `{host, conflicting_hosts}`
 * (every one of them). not_found when no host has the serial.
 */
export async function hostDetail(
  deps: HostReadDeps,
  serial: string,
  now: number,
): Promise<{ host: HostDetail; conflicting_hosts?: HostDetail[] }> {
  const hosts = await deps.hosts.findBySerial(serial);
  const out: HostDetail[] = [];
  for (const h of hosts) out.push(await hostDetailOf(deps, h, now, 50));
  const [first] = out;
  if (!first) throw notFound(`host with serial "${serial}"`);
  return out.length === 1 ? { host: first } : { host: first, conflicting_hosts: out };
}
