/**
 * One check on one device: latest result set → CheckState. Pure: no I/O, no clock.
 *
 * Status:
 * - no result for the check's query yet                     → `unknown`
 * - the agent reported an error running the query           → `error` (never pass)
 * - no `pass` expression (Fleet semantics)                   → `pass` iff one or more rows, else `fail`
 * - a `pass` expression                                      → its bool decides; an evaluation error → `error`
 *                                                               (so do more than MAX_EVAL_ROWS rows)
 *
 * Times:
 * - `observedAt` is the agent's run time, but never later than the server's receive time
 *   (`updatedAt`): an agent clock set in the future cannot stretch a freshness budget.
 * - `firstFailedAt` is set at the first `fail` and kept while the check keeps failing (an `error` or
 *   `unknown` in between does not reset it); a `pass` clears it.
 * - `lastPassedAt` is the observedAt of the latest `pass`, kept through later failures.
 */
import {
  effectiveObservedAt,
  type CheckDef,
  type CheckState,
  type CheckStatus,
  type LatestResult,
  type Row,
} from '../domain/types.js';
import { errorMessage } from '../shared/errors.js';
import type { PassPredicate } from './cel.js';
import { interpolate } from './message.js';

/** How much of a result set is kept in a check state (for the message, the page and the admin API). */
export const OBSERVED_LIMITS = { rows: 5, columns: 24, valueChars: 256, errorChars: 500 } as const;

/**
 * Most rows a `pass` expression is evaluated over. A larger set is `error` (fail closed): truncating it
 * could turn `rows.all(...)` into a wrong pass, and nested comprehensions over a huge, agent-supplied set
 * would stall the event loop.
 */
export const MAX_EVAL_ROWS = 10_000;

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** The first few rows, each with at most a few columns and short values. */
export function trimRows(rows: readonly Row[]): Row[] {
  const out: Row[] = [];
  for (const row of rows.slice(0, OBSERVED_LIMITS.rows)) {
    const r: Row = {};
    let n = 0;
    for (const [k, v] of Object.entries(row)) {
      if (n++ >= OBSERVED_LIMITS.columns) break;
      r[k] = cut(String(v), OBSERVED_LIMITS.valueChars);
    }
    out.push(r);
  }
  return out;
}

export function evaluateCheck(
  def: CheckDef,
  compiled: PassPredicate | undefined,
  latest: LatestResult | undefined,
  prev: Pick<CheckState, 'firstFailedAt' | 'lastPassedAt'> | undefined,
  hostId: number,
): CheckState {
  const keptFailed = prev?.firstFailedAt ?? null;
  const keptPassed = prev?.lastPassedAt ?? null;
  if (!latest) {
    return {
      hostId,
      checkId: def.id,
      status: 'unknown',
      observed: [],
      message: interpolate(def.message, undefined),
      observedAt: null,
      firstFailedAt: keptFailed,
      lastPassedAt: keptPassed,
      error: null,
      resultSeq: null,
    };
  }
  const observedAt = effectiveObservedAt(latest);
  if (latest.error !== null && latest.error !== undefined) {
    return {
      hostId,
      checkId: def.id,
      status: 'error',
      observed: [],
      message: interpolate(def.message, undefined),
      observedAt,
      firstFailedAt: keptFailed,
      lastPassedAt: keptPassed,
      error: cut(latest.error || 'the agent could not run the query', OBSERVED_LIMITS.errorChars),
      resultSeq: latest.seq,
    };
  }
  let status: CheckStatus;
  let error: string | null = null;
  if (compiled && latest.rows.length > MAX_EVAL_ROWS) {
    status = 'error';
    error = `too many rows (${latest.rows.length}) to evaluate the pass expression (limit ${MAX_EVAL_ROWS})`;
  } else if (compiled) {
    try {
      status = compiled(latest.rows) ? 'pass' : 'fail';
    } catch (e) {
      status = 'error';
      error = cut(`pass expression failed: ${errorMessage(e).split('\n')[0] ?? ''}`, OBSERVED_LIMITS.errorChars);
    }
  } else {
    status = latest.rows.length > 0 ? 'pass' : 'fail';
  }
  return {
    hostId,
    checkId: def.id,
    status,
    observed: trimRows(latest.rows),
    message: interpolate(def.message, latest.rows[0]),
    observedAt,
    firstFailedAt: status === 'pass' ? null : status === 'fail' ? (keptFailed ?? observedAt) : keptFailed,
    lastPassedAt: status === 'pass' ? Math.max(keptPassed ?? observedAt, observedAt) : keptPassed,
    error,
    resultSeq: latest.seq,
  };
}
