/**
 * A connection's write gate: the checkpointer (checkpointer.ts) holds the server's bulk writes for a
 * moment so that a checkpoint can copy the whole write-ahead log into the database, after which the next
 * commit starts the log over from its beginning.
 *
 * Why: SQLite starts the log over only when a write begins with every frame already checkpointed. Under
 * the fleet's continuous ingest the PASSIVE checkpoint never catches up (commits land while it copies), so
 * the log grew without bound until a lull: 560 MB in 25 s at 100k hosts, 9 GB during the first report.
 * Every page read then searched a longer log index, and the commit that finally started the log over cut
 * the file back to `journal_size_limit` on the event loop (one ftruncate of 500 MB: 131 ms).
 *
 * The gate is not a lock: nothing blocks. The bulk writes go through `gatedWrite` (the group commit, the
 * sliced writers of write-slices.ts, handing out and completing distributed queries), and while it is
 * held they wait (their callers' promises stay pending, the event loop keeps
 * serving requests). A hold ends when the checkpointer releases it, or after `maxMs` whatever happens.
 * Rare one-off writes (an enrollment, an admin change) do not wait.
 */
import type Database from 'better-sqlite3';

/** The longest a hold lasts if nobody releases it (ms). */
export const MAX_HOLD_MS = 250;

export interface WriteGate {
  /** True while bulk writes wait. */
  readonly held: boolean;
  /** Resolves when the gate is open. */
  opened(): Promise<void>;
  /** Holds bulk writes until `release`, at most `maxMs`. */
  hold(maxMs?: number): void;
  release(): void;
}

export function createWriteGate(): WriteGate {
  let held = false;
  let timer: NodeJS.Timeout | undefined;
  let waiting: Array<() => void> = [];

  function release(): void {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    const run = waiting;
    waiting = [];
    for (const resolve of run) resolve();
  }

  return {
    get held() {
      return held;
    },
    opened: () => (held ? new Promise<void>((resolve) => waiting.push(resolve)) : Promise.resolve()),
    hold(maxMs = MAX_HOLD_MS) {
      if (held) return;
      held = true;
      timer = setTimeout(release, maxMs);
      timer.unref();
    },
    release,
  };
}

const gates = new WeakMap<Database.Database, WriteGate>();

/** The gate of a connection (one per connection, made on first use). */
export function writeGateOf(sqlite: Database.Database): WriteGate {
  let g = gates.get(sqlite);
  if (!g) {
    g = createWriteGate();
    gates.set(sqlite, g);
  }
  return g;
}

/**
 * `write` (a synchronous SQLite write) as an async function that first waits while the connection's gate
 * is held; when it is open, the write runs at once (no extra turn).
 */
export function gatedWrite<A extends unknown[], R>(
  sqlite: Database.Database,
  write: (...args: A) => R,
): (...args: A) => Promise<R> {
  const gate = writeGateOf(sqlite);
  return async (...args) => {
    if (gate.held) await gate.opened();
    return write(...args);
  };
}
