/**
 * How one result update merges into the stored latest set of its (host, query): pure functions, no SQL.
 * Snapshots replace the set; differentials remove and add rows (counter 0 or a new epoch is a full set);
 * an older update and a retried differential are skipped.
 */
import { resultOrderOf, type ResultUpdate, type Row } from '../domain/types.js';

/** What the merge needs of the stored set (`rows` may be a getter: read only when the update needs it). */
export interface StoredSet {
  rows: Row[];
  observedAt: number;
  updatedAt: number;
  epoch: number;
  counter: number;
  seq: number;
}

/** Canonical identity of a row (column order does not matter). */
export function rowKey(row: Row): string {
  const keys = Object.keys(row).sort();
  let s = '';
  for (const k of keys) s += `${JSON.stringify(k)}:${JSON.stringify(row[k])},`;
  return s;
}

/**
 * Applies one update to the previous set; returns undefined when the update must be skipped.
 *
 * Order (`compareResultOrder`): the second a result was observed in, capped by the second it arrived in
 * (an agent clock running ahead cannot stamp the future), then arrival. An update observed in an earlier
 * second than the stored set is older and skipped; one in the same second arrived after it (the store
 * gives it the next `seq`) and replaces it. So a recheck answer, stamped in whole seconds on arrival,
 * replaces a failing result that arrived earlier in that second, however far ahead its agent's clock was.
 */
export function applyUpdate(prev: StoredSet | undefined, u: ResultUpdate, receivedAt: number): Row[] | undefined {
  const at = u.unixTime * 1000;
  // older: never overwrite newer
  if (prev && Math.min(u.unixTime, Math.floor(receivedAt / 1000)) < resultOrderOf(prev).second) return undefined;
  if (u.error !== undefined) return prev?.rows ?? [];
  if (u.mode === 'snapshot') return u.added;
  // differential
  if (prev && at === prev.observedAt && u.epoch === prev.epoch && u.counter <= prev.counter && u.counter !== 0)
    return undefined; // retried batch
  if (!prev || u.counter === 0 || u.epoch !== prev.epoch) return u.added; // counter 0 / new epoch: the full set
  const removed = new Map<string, number>();
  for (const r of u.removed) {
    const k = rowKey(r);
    removed.set(k, (removed.get(k) ?? 0) + 1);
  }
  const out: Row[] = [];
  for (const r of prev.rows) {
    const k = rowKey(r);
    const n = removed.get(k);
    if (n) removed.set(k, n - 1);
    else out.push(r);
  }
  return out.concat(u.added);
}
