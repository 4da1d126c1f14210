/**
 * Applying results (the ingest path): a host's latest result sets → the check states that changed
 * (to persist) and the tier decisions that flipped (to audit). A result older than the one evaluated
 * (by the result order: observed second, then arrival seq) never overwrites it.
 */
import { compareResultOrder, resultOrderOf, type CheckState, type Host, type LatestResult } from '../domain/types.js';
import type { Decision } from '../domain/verdict.js';
import type { Logger } from '../shared/log.js';
import { evaluateCheck } from './evaluate-check.js';
import { upsertHost, type State } from './fleet.js';
import {
  CODE_OF,
  STATUS_MASK,
  T_FAILED,
  T_OBSERVED,
  T_PASSED,
  T_SEQ,
  T_SLOTS,
  nullIfNaN,
  numOrNaN,
  refreshTiers,
  setState,
  tierReasonsAt,
  tierDenies,
  type HostRec,
} from './host-record.js';
import type { Model } from './model.js';
import { stateReason } from './verdict.js';

export interface TierTransition {
  serial: string;
  hostId: number;
  tier: string;
  from: Decision;
  to: Decision;
  /** Check ids that do not pass (or are stale) after the change. */
  reasons: string[];
}

export interface ResultsOutcome {
  /** States that changed: persist them (CheckStateRepo.putMany). */
  changed: CheckState[];
  /** Tier posture decisions that flipped: audit them. */
  transitions: TierTransition[];
}

/** Per tier, whether the record's posture denies at `now`. */
function hostDecisions(m: Model, rec: HostRec, now: number): boolean[] {
  return rec.tierReasons.map((_, i) => {
    const t = m.tiers[i];
    return t ? tierDenies(rec, i, t, now) : true;
  });
}

/** The check ids a tier denies for (stale ones named) at `now`. */
function reasonIds(m: Model, rec: HostRec, tierIdx: number, now: number): string[] {
  return (tierReasonsAt(m, rec, tierIdx, now) ?? []).map((r) => r.check);
}

/** Evaluates each result of `latest` into `rec`; returns the states that changed. */
function evaluateInto(m: Model, rec: HostRec, host: Host, latest: readonly LatestResult[], log: Logger): CheckState[] {
  const changed: CheckState[] = [];
  for (const l of latest) {
    if (l.hostId !== host.id) {
      log.warn(
        { event: 'posture.result_host_mismatch', hostId: host.id, resultHostId: l.hostId, queryKey: l.queryKey },
        'result for another host ignored',
      );
      continue;
    }
    const idx = m.byQueryKey.get(l.queryKey) ?? m.byId.get(l.queryKey);
    const c = idx === undefined ? undefined : m.checks[idx];
    if (idx === undefined || !c) continue;
    const o = idx * T_SLOTS;
    const prevObserved = rec.times[o + T_OBSERVED] ?? NaN;
    const prevSeq = rec.times[o + T_SEQ] ?? NaN;
    // an older result than the one evaluated (callbacks of separate commits can arrive out of order):
    // never overwrite
    if (compareResultOrder(resultOrderOf(l), { second: Math.floor(prevObserved / 1000), seq: prevSeq }) < 0) continue;
    const prev = {
      firstFailedAt: nullIfNaN(rec.times[o + T_FAILED]),
      lastPassedAt: nullIfNaN(rec.times[o + T_PASSED]),
    };
    const next = evaluateCheck(c.def, c.pass, l, prev, host.id);
    const reason = stateReason(c.def, next);
    const prevCode = (rec.codes[idx] ?? 0) & STATUS_MASK;
    const same =
      prevCode === CODE_OF[next.status] &&
      prevObserved === numOrNaN(next.observedAt) &&
      nullIfNaN(rec.times[o + T_FAILED]) === next.firstFailedAt &&
      nullIfNaN(rec.times[o + T_PASSED]) === next.lastPassedAt &&
      nullIfNaN(rec.times[o + T_SEQ]) === next.resultSeq &&
      rec.reasons[idx]?.message === reason?.message;
    if (same) continue;
    setState(rec, idx, next, reason);
    changed.push(next);
  }
  return changed;
}

/** A host's latest results into the state at `now`: what changed and which tier decisions flipped. */
export function applyResults(
  s: State,
  host: Host,
  latest: readonly LatestResult[],
  now: number,
  log: Logger,
): ResultsOutcome {
  const rec = upsertHost(s, host);
  const m = s.model;
  const before = hostDecisions(m, rec, now);
  const changed = evaluateInto(m, rec, host, latest, log);
  if (changed.length === 0) return { changed, transitions: [] };
  refreshTiers(m, rec);
  s.changes++;
  const after = hostDecisions(m, rec, now);
  const transitions: TierTransition[] = [];
  after.forEach((deny, i) => {
    if (deny === before[i]) return;
    const t = m.tiers[i];
    if (!t) return;
    transitions.push({
      serial: rec.info.serial,
      hostId: rec.id,
      tier: t.name,
      from: before[i] ? 'deny' : 'allow',
      to: deny ? 'deny' : 'allow',
      reasons: deny ? reasonIds(m, rec, i, now) : [],
    });
  });
  return { changed, transitions };
}
