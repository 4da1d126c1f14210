/**
 * Long writes in slices: a SQLite transaction runs on the event loop, so a write of many items is cut
 * into transactions of at most `WRITE_SLICE_MS` of work each, with a turn of the loop between them (the
 * requests that arrived meanwhile are served before the next slice). Used where the items need not be
 * committed together: each item stands alone and a crash between slices is recovered like a crash before
 * the write.
 */
import type Database from 'better-sqlite3';
import { gatedWrite } from './write-gate.js';
import { yieldToLoop } from '../shared/turns.js';

/** The most work one write transaction does before the rest waits for the next turn of the loop (ms). */
export const WRITE_SLICE_MS = 4;

export interface SliceOptions {
  sliceMs?: number;
  /** The clock the slice is measured with (default performance.now). */
  now?: () => number;
}

/**
 * Runs `each` on `items` from index `from` until they are done or one slice of work has passed (at least
 * one item); returns the index after the last item run. Every sliced write's loop.
 */
export function runSlice<T>(items: readonly T[], from: number, opts: SliceOptions, each: (item: T) => void): number {
  const now = opts.now ?? (() => performance.now());
  const end = now() + (opts.sliceMs ?? WRITE_SLICE_MS);
  let i = from;
  while (i < items.length) {
    each(items[i] as T);
    i++;
    if (now() >= end) break;
  }
  return i;
}

/**
 * Returns `write(items)`: applies `each` to every item, in immediate transactions of at most one slice of
 * work each (at least one item per transaction), yielding to the event loop between them. A slice waits
 * while the connection's write gate is held (write-gate.ts).
 */
export function slicedWriter<T>(
  sqlite: Database.Database,
  each: (item: T) => void,
  opts: SliceOptions = {},
): (items: readonly T[]) => Promise<void> {
  const tx = sqlite.transaction((items: readonly T[], from: number): number => runSlice(items, from, opts, each));
  const slice = gatedWrite(sqlite, (items: readonly T[], from: number) => tx.immediate(items, from));
  return async function write(items) {
    for (let from = 0; from < items.length;) {
      if (from > 0) await yieldToLoop();
      from = await slice(items, from);
    }
  };
}
