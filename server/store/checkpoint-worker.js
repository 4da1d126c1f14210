// The WAL checkpointer's thread (store/checkpointer.ts): its own connection to the database, and a PASSIVE
// checkpoint whenever the main thread asks. Plain JavaScript: a worker thread does not inherit the tsx
// loader the `trustgate` command registers.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
} catch (e) {
  // SQLite's own error class loses its message on the way to the main thread: a plain Error keeps it
  throw new Error(`cannot open ${workerData.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
// a checkpoint syncs the WAL before and the database file after it, so the WAL can then be reused safely
db.pragma('synchronous = NORMAL');

parentPort.on('message', (m) => {
  if (m !== 'checkpoint') return;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
