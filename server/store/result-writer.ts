/**
 * Writes one ingest batch inside the caller's transaction (the group commit's): each update merged into
 * the stored latest set of its (host, query) and given the next arrival sequence number, then the
 * batch's status logs appended and the host's trimmed to the newest `statusLogsPerHost`. A batch of a
 * host unenrolled meanwhile is skipped whole. Every statement is prepared once, here.
 */
import type Database from 'better-sqlite3';
import type { IngestBatch, IngestOutcome, LatestResult, Row } from '../domain/types.js';
import { applyUpdate, type StoredSet } from './result-merge.js';
import { parseJson } from './rows.js';
import type { StoredMeta } from './result-reads.js';

const UPSERT_LATEST = `INSERT INTO latest_results
    (host_id, query_key, rows, observed_at, epoch, counter, error, updated_at, seq)
  VALUES (@hostId, @queryKey, @rows, @observedAt, @epoch, @counter, @error, @updatedAt, @seq)
  ON CONFLICT (host_id, query_key) DO UPDATE SET rows = excluded.rows, observed_at = excluded.observed_at,
    epoch = excluded.epoch, counter = excluded.counter, error = excluded.error, updated_at = excluded.updated_at,
    seq = excluded.seq`;

/** Returns `applyBatch(batch)`: call it inside a write transaction. */
export function createBatchWriter(
  sqlite: Database.Database,
  statusLogsPerHost: number,
): (batch: IngestBatch) => IngestOutcome {
  const getMeta = sqlite.prepare<[number, string], StoredMeta>(
    `SELECT observed_at, epoch, counter, error, updated_at, seq FROM latest_results
    WHERE host_id = ? AND query_key = ?`,
  );
  const getRows = sqlite.prepare<[number, string], { rows: string }>(
    'SELECT rows FROM latest_results WHERE host_id = ? AND query_key = ?',
  );
  const upsert = sqlite.prepare(UPSERT_LATEST);
  // the arrival sequence lives in the database: it keeps counting across restarts (and, on a shared
  // database, across instances); taken inside the batch's write transaction, so it follows commit order
  const nextSeq = sqlite
    .prepare<[], number>(
      `INSERT INTO sequences (name, value) VALUES ('latest_results', 1)
    ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    )
    .pluck();
  const hostExists = sqlite.prepare<[number], { id: number }>('SELECT id FROM hosts WHERE id = ?');
  const writeStatuses = createStatusWriter(sqlite, statusLogsPerHost);

  /**
   * The stored set of (host, query), if any. Its rows are read only when the update needs them
   * (differentials, errors): a snapshot replaces the set and only needs the time for the order check.
   */
  function storedSet(hostId: number, queryKey: string): StoredSet | undefined {
    const s = getMeta.get(hostId, queryKey);
    return s
      ? {
          get rows() {
            return parseJson<Row[]>(getRows.get(hostId, queryKey)?.rows ?? '[]', []);
          },
          observedAt: s.observed_at,
          epoch: s.epoch,
          counter: s.counter,
          updatedAt: s.updated_at,
          seq: s.seq,
        }
      : undefined;
  }

  return function applyBatch(batch: IngestBatch): IngestOutcome {
    const out: IngestOutcome = { latest: [], skipped: 0, rowsApplied: 0 };
    if (!hostExists.get(batch.hostId)) return { ...out, skipped: batch.results.length }; // unenrolled meanwhile
    for (const u of batch.results) {
      const rows = applyUpdate(storedSet(batch.hostId, u.queryKey), u, batch.receivedAt);
      if (!rows) {
        out.skipped++;
        continue;
      }
      const latest: LatestResult = {
        hostId: batch.hostId,
        queryKey: u.queryKey,
        rows,
        observedAt: u.unixTime * 1000,
        epoch: u.epoch,
        counter: u.counter,
        error: u.error ?? null,
        updatedAt: batch.receivedAt,
        seq: nextSeq.get() ?? 0,
      };
      upsert.run({ ...latest, rows: JSON.stringify(rows) });
      out.rowsApplied += u.added.length + u.removed.length;
      // a later update of the same key in this batch supersedes the earlier one
      const i = out.latest.findIndex((l) => l.queryKey === u.queryKey);
      if (i >= 0) out.latest.splice(i, 1);
      out.latest.push(latest);
    }
    writeStatuses(batch);
    return out;
  };
}

/** Returns `writeStatuses(batch)`: appends the batch's status logs, keeping the host's newest `perHost`. */
function createStatusWriter(sqlite: Database.Database, perHost: number): (batch: IngestBatch) => void {
  const insertStatus = sqlite.prepare(`INSERT INTO status_logs
      (host_id, unix_time, severity, filename, line, message, version, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const pruneStatus = sqlite.prepare(`DELETE FROM status_logs WHERE host_id = ? AND id <= (
    SELECT id FROM status_logs WHERE host_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);

  return function writeStatuses(batch) {
    if (!batch.statuses.length || perHost <= 0) return;
    for (const st of batch.statuses)
      insertStatus.run(
        batch.hostId,
        st.unixTime,
        st.severity,
        st.filename,
        st.line,
        st.message,
        st.version,
        batch.receivedAt,
      );
    pruneStatus.run(batch.hostId, batch.hostId, perHost);
  };
}
