/**
 * The packed per-device record and its layout. About 1.5 KB per device with 15 checks (~150 MB of
 * heap for 100k devices; measured by `benchEvaluations`):
 * - `codes`   number[n]   status code (0 unknown, 1 pass, 2 fail, 3 error) | APPLICABLE bit (small ints)
 * - `times`   number[4n]  observedAt, firstFailedAt, lastPassedAt, result seq per check (NaN = none;
 *                         unboxed doubles)
 * - `reasons` array[n]    the precomputed reason of each check that has data and does not pass
 * - `tierReasons`, `tierOldest`  per tier: the sorted non-passing reasons, and the oldest observedAt
 *   among the tier's required applicable checks (Infinity if none), so freshness at decision time is one
 *   comparison; only when that comparison says stale are the stale checks named. Two arrays, not an
 *   object per tier: at 100k devices those were 300k objects, each with its time boxed in another.
 *   refreshTiers replaces both arrays whole; nothing writes into them in place.
 * - `staleTiers`  per tier, once a lookup found it stale: its reasons with the stale checks named, and
 *   the span of time they hold for (until another check's result grows too old), so a device whose agent
 *   stopped reporting costs a comparison per request, not a new array and a new JSON text (the verdict's
 *   JSON is kept per reasons array: gateway/verdict-json.ts). refreshTiers drops it with the rest. Kept
 *   for the STALE_KEPT devices most recently named only, first in first out (StaleKept): a stale device's
 *   named reasons and their JSON are ~4 KB, and after an outage every device is stale at once.
 * Full observed rows are not kept here (they are in the check-state store). This module owns the
 * layout: writing a check's state, applicability, and the tier records derived from both.
 */
import type { CheckState, CheckStatus, Host } from '../domain/types.js';
import type { VerdictReason } from '../domain/verdict.js';
import type { Model, TierModel } from './model.js';
import { missingReason, sortReasons, staleReason, type DeviceInfo } from './verdict.js';

export const S_UNKNOWN = 0;
export const S_PASS = 1;
const S_FAIL = 2;
const S_ERROR = 3;
export const STATUS_MASK = 0x0f;
export const APPLICABLE = 0x10;
export const CODE_OF: Record<CheckStatus, number> = { unknown: S_UNKNOWN, pass: S_PASS, fail: S_FAIL, error: S_ERROR };
export const STATUS_OF: readonly CheckStatus[] = ['unknown', 'pass', 'fail', 'error'];
export const T_OBSERVED = 0;
export const T_FAILED = 1;
export const T_PASSED = 2;
/** The arrival seq of the result evaluated (with observedAt's second, the result order). */
export const T_SEQ = 3;
/** Slots of `times` per check. */
export const T_SLOTS = 4;
export const NO_REASONS: readonly VerdictReason[] = Object.freeze([]);

export const numOrNaN = (v: number | null | undefined): number => (v === null || v === undefined ? NaN : v);
export const nullIfNaN = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

export interface HostRec {
  id: number;
  info: DeviceInfo;
  /** Small integers (V8 keeps them unboxed; plain arrays allocate far cheaper than typed arrays). */
  codes: number[];
  /** Doubles (unboxed in a packed double array). */
  times: number[];
  reasons: Array<VerdictReason | undefined>;
  /** Per tier of the model: the sorted non-passing reasons. */
  tierReasons: Array<readonly VerdictReason[]>;
  /** Per tier: the oldest observedAt among its required applicable checks with data; Infinity if none. */
  tierOldest: number[];
  /** This device's serialized bundle entry, built on demand and dropped whenever the record changes. */
  bundleJson: string | undefined;
  /** Per tier: its reasons with the stale checks named, while `now` is in their span; built on demand. */
  staleTiers: Array<StaleReasons | undefined> | undefined;
}

/**
 * A tier's reasons at any `now` with `after < now <= until`: `after` is when the last of the named stale
 * checks went stale, `until` when the next passing check goes stale (±Infinity: none).
 */
export interface StaleReasons {
  reasons: readonly VerdictReason[];
  after: number;
  until: number;
}

/** How many devices keep their stale reasons (at most ~4 KB each with their JSON: ~16 MB in all). */
export const STALE_KEPT = 4096;

/**
 * The records holding stale reasons, oldest first, in a ring: keeping one more drops the oldest's (a
 * record kept again after a change holds two slots; the older one, when reached, drops its reasons early,
 * which costs one rebuild). One per fleet state.
 */
export interface StaleKept {
  recs: Array<HostRec | undefined>;
  next: number;
}

export const staleKept = (limit = STALE_KEPT): StaleKept => ({
  recs: new Array<undefined>(limit).fill(undefined),
  next: 0,
});

/** Gives `rec` a place among the records keeping stale reasons (dropping the oldest's when full). */
function keepStale(kept: StaleKept, rec: HostRec): Array<StaleReasons | undefined> {
  const old = kept.recs[kept.next];
  if (old !== undefined && old !== rec) old.staleTiers = undefined;
  kept.recs[kept.next] = rec;
  kept.next = (kept.next + 1) % kept.recs.length;
  return (rec.staleTiers = []);
}

/** Takes `rec` (a removed device's record) out of the ring, so the ring no longer keeps it alive. */
export function forgetStale(kept: StaleKept, rec: HostRec): void {
  for (let i = 0; i < kept.recs.length; i++) if (kept.recs[i] === rec) kept.recs[i] = undefined;
  rec.staleTiers = undefined;
}

export type CheckStateTimes = Pick<
  CheckState,
  'status' | 'observedAt' | 'firstFailedAt' | 'lastPassedAt' | 'resultSeq'
>;

export function infoOf(host: Host): DeviceInfo {
  return {
    serial: host.serial,
    hostname: host.hostname,
    platform: host.platform,
    osPlatform: host.osPlatform,
    lastSeenAt: host.lastSeenAt,
    serialConflict: host.serialConflict,
  };
}

/**
 * A record with copies of `checks`' per-check arrays, no tier records yet and no bundle entry: every
 * record is made here. Copies are exactly as long as their source (an array grown by push keeps spare
 * capacity, 41 slots for 18 checks), and a record lives as long as its device.
 */
export function recordOf(id: number, info: DeviceInfo, checks: Pick<HostRec, 'codes' | 'times' | 'reasons'>): HostRec {
  return {
    id,
    info,
    codes: checks.codes.slice(),
    times: checks.times.slice(),
    reasons: checks.reasons.slice(),
    tierReasons: [],
    tierOldest: [],
    bundleJson: undefined,
    staleTiers: undefined,
  };
}

/** A record with no data for any of `n` checks (no applicability, no tier records yet). */
export function emptyRec(id: number, info: DeviceInfo, n: number): HostRec {
  const codes: number[] = [];
  const times: number[] = [];
  const reasons: Array<VerdictReason | undefined> = [];
  for (let i = 0; i < n; i++) {
    codes.push(0);
    times.push(NaN, NaN, NaN, NaN);
    reasons.push(undefined);
  }
  return recordOf(id, info, { codes, times, reasons });
}

/** Writes check `idx`'s state and reason (keeps its APPLICABLE bit). */
export function setState(rec: HostRec, idx: number, s: CheckStateTimes, reason: VerdictReason | undefined): void {
  rec.codes[idx] = ((rec.codes[idx] ?? 0) & APPLICABLE) | CODE_OF[s.status];
  rec.times[idx * T_SLOTS + T_OBSERVED] = numOrNaN(s.observedAt);
  rec.times[idx * T_SLOTS + T_FAILED] = numOrNaN(s.firstFailedAt);
  rec.times[idx * T_SLOTS + T_PASSED] = numOrNaN(s.lastPassedAt);
  rec.times[idx * T_SLOTS + T_SEQ] = numOrNaN(s.resultSeq);
  rec.reasons[idx] = reason;
}

/** Sets or clears every check's APPLICABLE bit for the device's platform. */
export function applyApplicability(model: Model, rec: Pick<HostRec, 'info' | 'codes'>): void {
  for (let i = 0; i < model.checks.length; i++) {
    const c = model.checks[i];
    const applicable = c !== undefined && model.applies(c.def, rec.info);
    const code = rec.codes[i] ?? 0;
    rec.codes[i] = applicable ? code | APPLICABLE : code & STATUS_MASK;
  }
}

/** A tier's non-passing reasons (sorted) and the oldest observedAt of its required applicable checks. */
function tierRecord(
  model: Model,
  t: TierModel,
  rec: Pick<HostRec, 'codes' | 'times' | 'reasons'>,
): [readonly VerdictReason[], number] {
  let reasons: VerdictReason[] | undefined;
  let oldest = Infinity;
  for (let k = 0; k < t.required.length; k++) {
    const idx = t.required[k] ?? -1;
    if (idx < 0) {
      const id = t.requiredIds[k] ?? '';
      (reasons ??= []).push(model.missingReasons.get(id) ?? missingReason(id));
      continue;
    }
    const code = rec.codes[idx] ?? 0;
    if ((code & APPLICABLE) === 0) continue;
    const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
    if (obs < oldest) oldest = obs;
    if ((code & STATUS_MASK) !== S_PASS) {
      const reason = rec.reasons[idx] ?? model.checks[idx]?.unknownReason ?? missingReason(t.requiredIds[k] ?? '');
      (reasons ??= []).push(reason);
    }
  }
  return [reasons ? Object.freeze(sortReasons(reasons)) : NO_REASONS, oldest];
}

/** Rebuilds the tier records from the check states (and drops the cached bundle entry and stale reasons). */
export function refreshTiers(model: Model, rec: HostRec): void {
  // built by map, so each array is exactly as long as the tiers (push would leave 17 slots for 3)
  const tiers = model.tiers.map((t) => tierRecord(model, t, rec));
  rec.tierReasons = tiers.map(([reasons]) => reasons);
  rec.tierOldest = tiers.map(([, oldest]) => oldest);
  rec.bundleJson = undefined;
  rec.staleTiers = undefined;
}

/**
 * Tier `tierIdx`'s posture decision at `now`: deny when anything does not pass or the oldest result is
 * stale, and when the record has no tier records yet.
 */
export function tierDenies(rec: HostRec, tierIdx: number, t: TierModel, now: number): boolean {
  const reasons = rec.tierReasons[tierIdx];
  return !reasons || reasons.length > 0 || tierStale(rec, tierIdx, t, now);
}

/** Whether tier `tierIdx`'s oldest required result is older than the tier allows at `now` (none: not). */
const tierStale = (rec: HostRec, tierIdx: number, t: TierModel, now: number): boolean =>
  now - (rec.tierOldest[tierIdx] ?? Infinity) > t.maxAgeMs;

/**
 * Tier `tierIdx`'s reasons at `now`: the stored ones, with the stale checks named only when the oldest
 * result says something is stale; undefined while the record has no tier records. With `kept`, the
 * named reasons stay on the record for as long as the same checks are stale (the gateway's lookup).
 */
export function tierReasonsAt(
  model: Model,
  rec: HostRec,
  tierIdx: number,
  now: number,
  kept?: StaleKept,
): readonly VerdictReason[] | undefined {
  const t = model.tiers[tierIdx];
  const base = rec.tierReasons[tierIdx];
  if (!t || !base) return undefined;
  if (!tierStale(rec, tierIdx, t, now)) return base;
  const had = rec.staleTiers?.[tierIdx];
  if (had && had.after < now && now <= had.until) return had.reasons;
  const named = staleReasons(model, t, rec, base, now);
  if (kept) (rec.staleTiers ?? keepStale(kept, rec))[tierIdx] = named;
  return named.reasons;
}

/**
 * `base` plus a `stale` reason for each passing required check older than the tier allows at `now`,
 * sorted and frozen (shared by every lookup in its span), and the span they hold for.
 */
function staleReasons(
  model: Model,
  t: TierModel,
  rec: HostRec,
  base: readonly VerdictReason[],
  now: number,
): StaleReasons {
  let stale: VerdictReason[] | undefined;
  let after = -Infinity;
  let until = Infinity;
  for (let k = 0; k < t.required.length; k++) {
    const idx = t.required[k] ?? -1;
    if (idx < 0) continue;
    const code = rec.codes[idx] ?? 0;
    if ((code & APPLICABLE) === 0 || (code & STATUS_MASK) !== S_PASS) continue;
    const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
    const c = model.checks[idx];
    // stale once `now - obs > maxAgeMs`, i.e. from just after obs + maxAgeMs (a NaN time never is)
    const staleFrom = obs + t.maxAgeMs;
    if (!c || Number.isNaN(staleFrom)) continue;
    if (now > staleFrom) {
      (stale ??= []).push(staleReason(c.def, obs, t.maxAgeMs));
      if (staleFrom > after) after = staleFrom;
    } else if (staleFrom < until) until = staleFrom;
  }
  return { reasons: stale ? Object.freeze(sortReasons([...base, ...stale])) : base, after, until };
}

/** The most recently seen record of a serial (ties: the lowest host id, so every instance picks the same). */
export function latestRec(recs: readonly HostRec[]): HostRec | undefined {
  let best: HostRec | undefined;
  for (const r of recs) {
    const seen = r.info.lastSeenAt;
    if (!best || seen > best.info.lastSeenAt || (seen === best.info.lastSeenAt && r.id < best.id)) best = r;
  }
  return best;
}
