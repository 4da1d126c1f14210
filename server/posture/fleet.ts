/**
 * The engine's state: one compiled model and the device records under it, indexed by host id and by
 * serial (a serial two machines report has two records). Owns adding, updating, removing and bulk
 * loading records (the warm start), and the change counter the bundle cache keys on. Hosts held pending
 * for an admin are kept apart (no record, not in the serial index, so a verdict lookup never filters
 * them): only their serials, so a serial with nothing but pending hosts answers `pending_enrollment`.
 */
import type { CheckStateColumns, Host } from '../domain/types.js';
import type { Model } from './model.js';
import {
  APPLICABLE,
  S_PASS,
  S_UNKNOWN,
  STATUS_OF,
  T_FAILED,
  T_OBSERVED,
  T_PASSED,
  T_SEQ,
  T_SLOTS,
  applyApplicability,
  emptyRec,
  recordOf,
  infoOf,
  refreshTiers,
  forgetStale,
  staleKept,
  type HostRec,
  type StaleKept,
} from './host-record.js';
import { stateReason } from './verdict.js';

export interface State {
  model: Model;
  byId: Map<number, HostRec>;
  bySerial: Map<string, HostRec[]>;
  /** Serials in bundle order, built on demand and dropped when a serial appears or disappears. */
  sortedSerials?: string[] | undefined;
  /** Counts every change a bundle shows (with the state object itself, the bundle cache's key). */
  changes: number;
  /** Pending hosts: host id → serial, and how many pending hosts each such serial has. */
  pending: Map<number, string>;
  pendingSerials: Map<string, number>;
  /** The records the lookup keeps stale reasons on (host-record.ts). */
  staleKept: StaleKept;
}

export const emptyState = (model: Model): State => ({
  model,
  byId: new Map(),
  bySerial: new Map(),
  changes: 0,
  pending: new Map(),
  pendingSerials: new Map(),
  staleKept: staleKept(),
});

/** Forgets a pending host (no-op for another). */
export function unpend(s: State, hostId: number): void {
  const serial = s.pending.get(hostId);
  if (serial === undefined) return;
  s.pending.delete(hostId);
  const n = (s.pendingSerials.get(serial) ?? 1) - 1;
  if (n > 0) s.pendingSerials.set(serial, n);
  else s.pendingSerials.delete(serial);
}

/** Notes a pending host (and forgets any active record it had). */
export function pend(s: State, host: Host): void {
  removeHost(s, host.serial, host.id);
  unpend(s, host.id);
  s.pending.set(host.id, host.serial);
  s.pendingSerials.set(host.serial, (s.pendingSerials.get(host.serial) ?? 0) + 1);
}

export function indexSerial(s: State, rec: HostRec): void {
  const list = s.bySerial.get(rec.info.serial);
  if (!list) {
    s.bySerial.set(rec.info.serial, [rec]);
    s.sortedSerials = undefined;
  } else if (!list.includes(rec)) list.push(rec);
}

export function unindexSerial(s: State, rec: HostRec): void {
  const list = s.bySerial.get(rec.info.serial);
  if (!list) return;
  const rest = list.filter((r) => r !== rec);
  if (rest.length) s.bySerial.set(rec.info.serial, rest);
  else {
    s.bySerial.delete(rec.info.serial);
    s.sortedSerials = undefined;
  }
}

/** The host's record, created (no data) or updated with the host's current facts. */
export function upsertHost(s: State, host: Host): HostRec {
  const info = infoOf(host);
  let rec = s.byId.get(host.id);
  if (!rec) {
    rec = emptyRec(host.id, info, s.model.checks.length);
    applyApplicability(s.model, rec);
    refreshTiers(s.model, rec);
    s.byId.set(host.id, rec);
    indexSerial(s, rec);
    s.changes++;
    return rec;
  }
  const old = rec.info;
  if (old.serial !== info.serial) unindexSerial(s, rec);
  rec.info = info;
  if (old.serial !== info.serial) indexSerial(s, rec);
  if (old.platform !== info.platform || old.osPlatform !== info.osPlatform) {
    applyApplicability(s.model, rec);
    refreshTiers(s.model, rec);
  }
  if (
    old.serial !== info.serial ||
    old.platform !== info.platform ||
    old.osPlatform !== info.osPlatform ||
    old.hostname !== info.hostname ||
    old.serialConflict !== info.serialConflict
  ) {
    rec.bundleJson = undefined;
    s.changes++;
  }
  return rec;
}

/** Forgets the records of a serial (only host `hostId`'s when given), pending ones included. */
export function removeHost(s: State, serial: string, hostId?: number): void {
  for (const [id, sn] of [...s.pending]) if (sn === serial && (hostId === undefined || id === hostId)) unpend(s, id);
  for (const rec of [...(s.bySerial.get(serial) ?? [])]) {
    if (hostId !== undefined && rec.id !== hostId) continue;
    s.byId.delete(rec.id);
    unindexSerial(s, rec);
    forgetStale(s.staleKept, rec);
    s.changes++;
  }
}

/** Empty records for `hosts` (replacing any they had), applicability set, keyed by host id. */
function freshRecords(s: State, hosts: readonly Host[], first: Host): Map<number, HostRec> {
  const m = s.model;
  // Applicability depends only on (platform, osPlatform): one codes template per pair, copied per host.
  const blank = emptyRec(0, infoOf(first), m.checks.length);
  const templates = new Map<string, number[]>();
  const fresh = new Map<number, HostRec>();
  for (const host of hosts) {
    const old = s.byId.get(host.id);
    if (old) unindexSerial(s, old);
    const info = infoOf(host);
    const key = `${info.platform}\u0000${info.osPlatform}`;
    let codes = templates.get(key);
    if (!codes) {
      const t = { info, codes: blank.codes.slice() };
      applyApplicability(m, t);
      templates.set(key, (codes = t.codes));
    }
    const rec = recordOf(host.id, info, { codes, times: blank.times, reasons: blank.reasons });
    s.byId.set(host.id, rec);
    indexSerial(s, rec);
    fresh.set(host.id, rec);
  }
  return fresh;
}

/**
 * The warm start: every host, with the states of `cols` (read for the check ids `checkIds`,
 * CheckStateRepo.columns) that belong to it. A host loaded again starts over from `cols`.
 */
export function loadHosts(s: State, all: readonly Host[], cols: CheckStateColumns, checkIds: readonly string[]): void {
  const hosts: Host[] = [];
  for (const h of all) {
    if (h.enrollState === 'pending') pend(s, h);
    else {
      unpend(s, h.id);
      hosts.push(h);
    }
  }
  const first = hosts[0];
  if (!first) return;
  const m = s.model;
  const idxOf = Int32Array.from(checkIds, (id) => m.byId.get(id) ?? -1);
  const fresh = freshRecords(s, hosts, first);
  const { hostId, check, status, observedAt, firstFailedAt, lastPassedAt, resultSeq } = cols;
  for (let i = 0; i < cols.length; i++) {
    const rec = fresh.get(hostId[i] ?? NaN);
    const idx = idxOf[check[i] ?? 0] ?? -1;
    if (!rec || idx < 0) continue;
    const code = status[i] ?? S_UNKNOWN;
    const obs = observedAt[i] ?? NaN;
    rec.codes[idx] = ((rec.codes[idx] ?? 0) & APPLICABLE) | code;
    rec.times[idx * T_SLOTS + T_OBSERVED] = obs;
    rec.times[idx * T_SLOTS + T_FAILED] = firstFailedAt[i] ?? NaN;
    rec.times[idx * T_SLOTS + T_PASSED] = lastPassedAt[i] ?? NaN;
    rec.times[idx * T_SLOTS + T_SEQ] = resultSeq[i] ?? NaN;
    const c = m.checks[idx];
    rec.reasons[idx] =
      code === S_UNKNOWN || code === S_PASS || !c
        ? undefined
        : stateReason(c.def, {
            status: STATUS_OF[code] ?? 'unknown',
            message: cols.message.get(i) ?? c.def.message,
            observedAt: Number.isNaN(obs) ? null : obs,
            error: cols.error.get(i) ?? null,
          });
  }
  for (const rec of fresh.values()) refreshTiers(m, rec);
  s.changes++;
}
