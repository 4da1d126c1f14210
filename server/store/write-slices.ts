/**
 * Long writes in slices: a SQLite transaction runs on the event loop, so a write of many items is cut
 * into transactions of at most `WRITE_SLICE_MS` of work each, with a turn of the loop between them (the
 * requests that arrived meanwhile are served before the next slice). Used where the items need not be
 * committed together: each item stands alone and a crash between slices is recovered like a crash before
 * the write.
 */
import type Database from 'better-sqlite3';

/** The most work one write transaction does before the rest waits for the next turn of the loop (ms). */
export const WRITE_SLICE_MS = 4;

export interface SliceOptions {
  sliceMs?: number;
  /** The clock the slice is measured with (default performance.now). */
  now?: () => number;
}

/**
 * Returns `write(items)`: applies `each` to every item, in immediate transactions of at most one slice of
 * work each (at least one item per transaction), yielding to the event loop between them.
 */
export function slicedWriter<T>(
  sqlite: Database.Database,
  each: (item: T) => void,
  opts: SliceOptions = {},
): (items: readonly T[]) => Promise<void> {
  const now = opts.now ?? (() => performance.now());
  const sliceMs = opts.sliceMs ?? WRITE_SLICE_MS;
  /** Applies items from `from` until done or the slice is used up; returns the index after the last. */
  const slice = sqlite.transaction((items: readonly T[], from: number): number => {
    const end = now() + sliceMs;
    let i = from;
    while (i < items.length) {
      each(items[i] as T);
      i++;
      if (now() >= end) break;
    }
    return i;
  });
  return async function write(items) {
    for (let from = 0; from < items.length;) {
      if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      from = slice.immediate(items, from);
    }
  };
}
