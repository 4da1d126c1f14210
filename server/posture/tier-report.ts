/**
 * Where one device stands, check by check, from the engine's records: the remediation page's tier
 * report (every required check of a tier, failing first, times as epoch ms for the page to format) and
 * the recheck list (the applicable required checks that do not pass or are stale).
 */
import type { CheckStatus } from '../domain/types.js';
import type { State } from './fleet.js';
import {
  APPLICABLE,
  S_PASS,
  STATUS_MASK,
  STATUS_OF,
  T_FAILED,
  T_OBSERVED,
  T_PASSED,
  T_SLOTS,
  latestRec,
  nullIfNaN,
  type HostRec,
} from './host-record.js';
import type { CheckModel, TierModel } from './model.js';
import { missingReason, staleReason } from './verdict.js';

/** One row of the remediation page: a required check of a tier and where the device stands. */
export interface TierCheckReport {
  check: string;
  title: string;
  /** The check's failing-state title (CheckSpec.fail_title); null when it has none. */
  fail_title: string | null;
  status: CheckStatus | 'stale' | 'missing' | 'not_applicable';
  /** The reason's message when the check does not pass; null when it passes or does not apply. */
  message: string | null;
  remediation_url: string | null;
  /** Epoch ms of the result evaluated; null when none. */
  observed_at: number | null;
  /** Epoch ms of the first failure of the current failing streak; null when none. */
  first_failed_at: number | null;
  /** Epoch ms of the latest passing result; null when none. */
  last_passed_at: number | null;
}

const RANK: Record<TierCheckReport['status'], number> = {
  fail: 0,
  error: 1,
  stale: 2,
  unknown: 3,
  missing: 4,
  pass: 5,
  not_applicable: 6,
};

function reportRow(c: CheckModel, t: TierModel, rec: HostRec, idx: number, now: number): TierCheckReport {
  const code = rec.codes[idx] ?? 0;
  const o = idx * T_SLOTS;
  const obs = nullIfNaN(rec.times[o + T_OBSERVED]);
  const base = {
    check: c.def.id,
    title: c.def.title,
    fail_title: c.def.failTitle ?? null,
    remediation_url: c.def.remediationUrl ?? null,
    observed_at: obs,
    first_failed_at: nullIfNaN(rec.times[o + T_FAILED]),
    last_passed_at: nullIfNaN(rec.times[o + T_PASSED]),
  };
  if ((code & APPLICABLE) === 0) return { ...base, status: 'not_applicable', message: null };
  const status = STATUS_OF[code & STATUS_MASK] ?? 'unknown';
  if (status === 'pass' && obs !== null && now - obs > t.maxAgeMs) {
    return { ...base, status: 'stale', message: staleReason(c.def, obs, t.maxAgeMs).message };
  }
  const reason = status === 'pass' ? undefined : (rec.reasons[idx] ?? c.unknownReason);
  return { ...base, status, message: reason?.message ?? null };
}

/** Every required check of `tierName` for the serial's device, failing first; undefined when unknown. */
export function tierReport(s: State, serial: string, tierName: string, now: number): TierCheckReport[] | undefined {
  const m = s.model;
  const t = m.tiers[m.tierByName.get(tierName) ?? -1];
  const recs = s.bySerial.get(serial);
  const rec = recs && latestRec(recs);
  if (!t || !rec) return undefined;
  const rows = t.requiredIds.map((id, k): TierCheckReport => {
    const idx = t.required[k] ?? -1;
    const c = m.checks[idx];
    if (idx >= 0 && c) return reportRow(c, t, rec, idx, now);
    return {
      check: id,
      title: id,
      fail_title: null,
      status: 'missing',
      message: missingReason(id).message,
      remediation_url: null,
      observed_at: null,
      first_failed_at: null,
      last_passed_at: null,
    };
  });
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => RANK[a.r.status] - RANK[b.r.status] || a.i - b.i)
    .map((x) => x.r);
}

/**
 * The applicable required checks of the serial's device that do not pass or are stale at `now`: of
 * `tier`, or of every tier (each check against the strictest max_age requiring it).
 */
export function failingOrStaleChecks(s: State, serial: string, now: number, tier?: string): string[] {
  const m = s.model;
  const recs = s.bySerial.get(serial);
  const rec = recs && latestRec(recs);
  if (!rec) return [];
  const out: string[] = [];
  const consider = (idx: number, maxAgeMs: number): void => {
    const c = m.checks[idx];
    const code = rec.codes[idx] ?? 0;
    if (!c || (code & APPLICABLE) === 0 || out.includes(c.def.id)) return;
    const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
    if ((code & STATUS_MASK) !== S_PASS || now - obs > maxAgeMs) out.push(c.def.id);
  };
  if (tier !== undefined) {
    const t = m.tiers[m.tierByName.get(tier) ?? -1];
    for (const idx of t?.required ?? []) if (idx >= 0 && t) consider(idx, t.maxAgeMs);
  } else {
    m.checks.forEach((c, idx) => {
      if (Number.isFinite(c.strictestMaxAgeMs)) consider(idx, c.strictestMaxAgeMs);
    });
  }
  return out;
}
