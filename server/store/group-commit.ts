/**
 * The ingest path's group commit: callers await `ingest(batch)`, and only then answer osquery `{}`.
 *
 * Durability and throughput: everything queued within a few milliseconds is applied in a single
 * synchronous SQLite transaction, then the WAL is fsynced on the thread pool (`syncWal`) and only then
 * does every caller's promise settle. The connection runs with synchronous=NORMAL, so the commit itself
 * only writes the WAL frames (a process crash keeps them); the explicit fsync of the WAL file makes them
 * survive power loss as well, exactly what `synchronous=FULL` would do at commit, but without blocking the
 * event loop for the disk flush (which took a third of the main thread under steady log traffic). The
 * next group can commit while the previous fsync runs; an fsync flushes every frame written before it.
 * If a group's transaction fails, each batch is retried alone so one bad batch cannot fail the others;
 * if the fsync fails, the group is answered `unavailable` and agents resend (replays are idempotent).
 * The queue is bounded: beyond `queueMax` waiting batches the call rejects with `unavailable`, so agents
 * keep their buffered logs and retry (never acknowledged-then-dropped).
 *
 * A transaction runs on the event loop, so a group is cut at `sliceMs` of work (write-slices.ts): the
 * batches applied by then are committed (and acknowledged as above), and the rest is committed in the
 * next turn of the loop, after the requests that arrived meanwhile (a gateway decision waits for one
 * slice, not for the whole group). In a profile of the 100k bench under ingest, whole groups were the
 * largest part of the event loop's 20-90 ms busy stretches. While the checkpointer holds the connection's
 * write gate (write-gate.ts), the next group waits for it to open.
 */
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import type { IngestBatch, IngestOutcome } from '../domain/types.js';
import { errorMessage, unavailable } from '../shared/errors.js';
import { runSlice, type SliceOptions } from './write-slices.js';
import { gatedWrite } from './write-gate.js';

/** How long the first batch of a group waits for others before the commit (ms). */
export const GROUP_COMMIT_WINDOW_MS = 4;

export interface GroupCommitOptions extends SliceOptions {
  queueMax: number;
  /** fsync the WAL before acknowledging (power-loss durable); false: crash durable only. */
  fsync: boolean;
  /** The WAL flush. */
  syncWal: () => Promise<void>;
}

interface Pending {
  batch: IngestBatch;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
}
type Applied = [Pending, IngestOutcome];

/**
 * An fsync of the database's write-ahead log on the thread pool. fsync flushes the file (inode), so it
 * covers every frame SQLite wrote through its own descriptor before the call.
 */
export function walSyncer(sqlite: Database.Database): () => Promise<void> {
  if (sqlite.memory) return () => Promise.resolve();
  const wal = `${sqlite.name}-wal`;
  return () =>
    new Promise<void>((resolve, reject) => {
      fs.open(wal, 'r+', (openErr, fd) => {
        if (openErr) return reject(openErr);
        fs.fsync(fd, (syncErr) => fs.close(fd, () => (syncErr ? reject(syncErr) : resolve())));
      });
    });
}

/** Returns `ingest(batch)`, which queues the batch for the next group commit of `apply` (a synchronous write). */
export function createGroupCommit(
  sqlite: Database.Database,
  apply: (batch: IngestBatch) => IngestOutcome,
  opts: GroupCommitOptions,
): (batch: IngestBatch) => Promise<IngestOutcome> {
  /** Applies batches from the head of `items` until they are done or the slice is used up. */
  const applySlice = sqlite.transaction((items: Pending[]) => {
    const applied: Applied[] = [];
    runSlice(items, 0, opts, (p) => applied.push([p, apply(p.batch)]));
    return applied;
  });
  const applyOne = sqlite.transaction((b: IngestBatch) => apply(b));

  const queue: Pending[] = [];
  let scheduled = false;

  /**
   * Applies a slice of `items` in one transaction or, when that fails, batch by batch, each in its own
   * transaction (a failing one rejected), within the same time; returns what was committed and how many
   * items were settled or committed.
   */
  function commit(items: Pending[]): { applied: Applied[]; taken: number } {
    try {
      const applied = applySlice.immediate(items);
      return { applied, taken: applied.length };
    } catch {
      const applied: Applied[] = [];
      const taken = runSlice(items, 0, opts, (p) => {
        try {
          applied.push([p, applyOne.immediate(p.batch)]);
        } catch (e) {
          p.reject(e);
        }
      });
      return { applied, taken };
    }
  }

  /** Settles the callers of what was committed: at once, or after the WAL flush when durable. */
  function acknowledge(applied: Applied[]): void {
    if (!opts.fsync) {
      for (const [p, o] of applied) p.resolve(o);
      return;
    }
    opts.syncWal().then(
      () => {
        for (const [p, o] of applied) p.resolve(o);
      },
      (e: unknown) => {
        for (const [p] of applied)
          p.reject(unavailable(`could not flush the write-ahead log to disk (${errorMessage(e)}); retry later`));
      },
    );
  }

  /** Commits a slice of the queue; the next slice goes in the next turn (gatedWrite: none while held). */
  const flush = gatedWrite(sqlite, (): void => {
    const { applied, taken } = commit(queue);
    queue.splice(0, taken);
    if (applied.length) acknowledge(applied);
    if (queue.length) setImmediate(() => void flush());
    else scheduled = false;
  });

  return function ingest(batch) {
    if (queue.length >= opts.queueMax) return Promise.reject(unavailable('ingest queue is full; retry later'));
    return new Promise<IngestOutcome>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setTimeout(() => void flush(), GROUP_COMMIT_WINDOW_MS);
      }
    });
  };
}
