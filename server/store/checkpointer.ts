/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that grows the
 * write-ahead log past 1,000 pages: on the event loop, it copies those pages into the database file and
 * fsyncs both files. Measured here on a small table (50 upserts per commit): commit p99 8.8 ms and max
 * 44 ms with it, 0.34 ms and 8 ms without; under the fleet's ingest at 100k hosts those commits held every
 * gateway decision behind them.
 *
 * The server turns the automatic checkpoint off on its connection and runs a PASSIVE checkpoint every
 * second on a worker thread with a connection of its own (checkpoint-worker.js). PASSIVE never waits for
 * readers or writers; whatever it could not copy is copied by a later one, and once the whole log is in
 * the database the next commit starts the log over (its file cut back to `journal_size_limit`).
 *
 * Under continuous writes that never happens: a commit lands while the checkpoint copies, so the log is
 * never whole in the database when the next write begins (the checkpoint's own result cannot tell: it
 * counts the frames it saw when it started). So when the log holds at least `restartFrames`, the server's
 * bulk writes are held (write-gate.ts) while a second pass copies what landed during the first, usually
 * a fraction of a second's worth; the next commit then starts the log over. Without it, at 100k hosts the
 * log grew to 560 MB between lulls (9 GB during the first report), and the commit that started it over
 * cut the file back to the limit on the event loop: one ftruncate of 131 ms.
 *
 * If the worker fails, the connection goes back to SQLite's automatic checkpoint, so the log never grows
 * without bound.
 */
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { writeGateOf } from './write-gate.js';

/** How often the worker checkpoints (ms). */
export const CHECKPOINT_EVERY_MS = 1000;
/** SQLite's automatic checkpoint threshold (pages), restored when the worker fails. */
const AUTO_CHECKPOINT_PAGES = 1000;
/** The WAL file is cut back to this size when the log starts over (bytes). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** A checkpoint of a log at least this long (frames) is followed by a second pass with the writes held. */
export const RESTART_FRAMES = 1024;

export interface CheckpointResult {
  /** Frames in the log, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  /**
   * Checkpoints now (on the worker) and, when the log was long, again with the bulk writes held; resolves
   * with what the last pass did.
   */
  checkpoint(): Promise<CheckpointResult>;
  /** Stops the worker (the connection's close checkpoints what is left). */
  stop(): Promise<void>;
}

type Reply = { ok: true; log: number; checkpointed: number } | { ok: false; error: string };

export function startCheckpointer(
  sqlite: Database.Database,
  opts: { everyMs?: number; restartFrames?: number; onFailure?: (err: Error) => void } = {},
): Checkpointer {
  const restartFrames = opts.restartFrames ?? RESTART_FRAMES;
  const gate = writeGateOf(sqlite);
  sqlite.pragma('wal_autocheckpoint = 0');
  sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path: sqlite.name } });
  const waiting: Array<{ resolve(r: CheckpointResult): void; reject(e: Error): void }> = [];
  let stopping = false;
  let failed = false;

  const fail = (err: Error): void => {
    for (const w of waiting.splice(0)) w.reject(err);
    if (failed || stopping) return;
    failed = true;
    clearInterval(timer);
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    opts.onFailure?.(err);
  };
  worker.on('message', (m: Reply) => {
    const w = waiting.shift();
    if (m.ok) w?.resolve({ log: m.log, checkpointed: m.checkpointed });
    else w?.reject(new Error(`WAL checkpoint failed: ${m.error}`));
  });
  worker.on('error', (e: unknown) =>
    fail(e instanceof Error && e.message ? e : new Error(`the WAL checkpoint worker failed: ${JSON.stringify(e)}`)),
  );
  worker.on('exit', (code) => fail(new Error(`the WAL checkpoint worker exited (${code})`)));

  const pass = (): Promise<CheckpointResult> =>
    failed || stopping
      ? Promise.reject(new Error('the WAL checkpoint worker is not running'))
      : new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
          worker.postMessage('checkpoint');
        });
  async function checkpoint(): Promise<CheckpointResult> {
    const first = await pass();
    if (first.log < restartFrames) return first;
    gate.hold();
    try {
      return await pass();
    } finally {
      gate.release();
    }
  }
  // one at a time: a tick while a checkpoint runs is skipped
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    checkpoint()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  }, opts.everyMs ?? CHECKPOINT_EVERY_MS);
  timer.unref();
  worker.unref();

  return {
    checkpoint,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
