/**
 * Latest result set per (host, query) and status logs — written by `ingestBatch` (last-seen times are
 * batched by the osquery service from every authenticated request, see hosts.touch).
 *
 * Durability and throughput: callers await `ingestBatch`, and only then answer osquery `{}`. Concurrent
 * batches are group-committed: everything queued within a few milliseconds is applied in a single
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
 */
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import type { ResultRepo } from '../domain/ports.js';
import {
  resultOrderOf,
  type IngestBatch,
  type IngestOutcome,
  type LatestResult,
  type ResultUpdate,
  type Row,
} from '../domain/types.js';
import { errorMessage, unavailable } from '../shared/errors.js';
import { parseJson } from './rows.js';

interface Stored {
  rows: string;
  observed_at: number;
  epoch: number;
  counter: number;
  error: string | null;
  updated_at: number;
  seq: number;
}
interface Pending {
  batch: IngestBatch;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
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
export function applyUpdate(
  prev: { rows: Row[]; observedAt: number; updatedAt: number; epoch: number; counter: number; seq: number } | undefined,
  u: ResultUpdate,
  receivedAt: number,
): Row[] | undefined {
  const at = u.unixTime * 1000;
  if (prev && Math.min(u.unixTime, Math.floor(receivedAt / 1000)) < resultOrderOf(prev).second) return undefined; // older: never overwrite newer
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

/** How long the first batch of a group waits for others before the commit (ms). */
export const GROUP_COMMIT_WINDOW_MS = 4;

export interface ResultRepoOptions {
  statusLogsPerHost: number;
  queueMax: number;
  /** fsync the WAL before acknowledging (power-loss durable); false: crash durable only. */
  fsync: boolean;
  /** The WAL flush (default: walSyncer of this database); replaceable to test failures. */
  syncWal?: () => Promise<void>;
}

export function createResultRepo(sqlite: Database.Database, opts: ResultRepoOptions): ResultRepo {
  const getMeta = sqlite.prepare<[number, string], Omit<Stored, 'rows'>>(
    'SELECT observed_at, epoch, counter, error, updated_at, seq FROM latest_results WHERE host_id = ? AND query_key = ?',
  );
  const getRows = sqlite.prepare<[number, string], { rows: string }>(
    'SELECT rows FROM latest_results WHERE host_id = ? AND query_key = ?',
  );
  const upsert =
    sqlite.prepare(`INSERT INTO latest_results (host_id, query_key, rows, observed_at, epoch, counter, error, updated_at, seq)
    VALUES (@hostId, @queryKey, @rows, @observedAt, @epoch, @counter, @error, @updatedAt, @seq)
    ON CONFLICT (host_id, query_key) DO UPDATE SET rows = excluded.rows, observed_at = excluded.observed_at, epoch = excluded.epoch,
      counter = excluded.counter, error = excluded.error, updated_at = excluded.updated_at, seq = excluded.seq`);
  // the arrival sequence lives in the database: it keeps counting across restarts (and, on a shared
  // database, across instances); taken inside the batch's write transaction, so it follows commit order
  const nextSeq = sqlite
    .prepare<[], number>(
      `INSERT INTO sequences (name, value) VALUES ('latest_results', 1)
    ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    )
    .pluck();
  const insertStatus =
    sqlite.prepare(`INSERT INTO status_logs (host_id, unix_time, severity, filename, line, message, version, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const pruneStatus = sqlite.prepare(`DELETE FROM status_logs WHERE host_id = ? AND id <= (
    SELECT id FROM status_logs WHERE host_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  const hostExists = sqlite.prepare<[number], { id: number }>('SELECT id FROM hosts WHERE id = ?');

  function applyBatch(batch: IngestBatch): IngestOutcome {
    const out: IngestOutcome = { latest: [], skipped: 0, rowsApplied: 0 };
    if (!hostExists.get(batch.hostId)) return { ...out, skipped: batch.results.length }; // unenrolled meanwhile
    for (const u of batch.results) {
      const s = getMeta.get(batch.hostId, u.queryKey);
      // the previous rows are read only when the update needs them (differentials, errors): a snapshot
      // replaces the set and only needs the time for the out-of-order check
      const hostId = batch.hostId;
      const prev = s
        ? {
            get rows() {
              return parseJson<Row[]>(getRows.get(hostId, u.queryKey)?.rows ?? '[]', []);
            },
            observedAt: s.observed_at,
            epoch: s.epoch,
            counter: s.counter,
            updatedAt: s.updated_at,
            seq: s.seq,
          }
        : undefined;
      const rows = applyUpdate(prev, u, batch.receivedAt);
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
    if (batch.statuses.length && opts.statusLogsPerHost > 0) {
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
      pruneStatus.run(batch.hostId, batch.hostId, opts.statusLogsPerHost);
    }
    return out;
  }

  const applyAll = sqlite.transaction((items: Pending[]) => items.map((p) => applyBatch(p.batch)));
  const applyOne = sqlite.transaction((b: IngestBatch) => applyBatch(b));

  let queue: Pending[] = [];
  let scheduled = false;
  const syncWal = opts.syncWal ?? walSyncer(sqlite);

  function flush(): void {
    scheduled = false;
    const items = queue;
    queue = [];
    const applied: Array<[Pending, IngestOutcome]> = [];
    try {
      const outcomes = applyAll.immediate(items);
      items.forEach((p, i) => applied.push([p, outcomes[i]!]));
    } catch {
      for (const p of items) {
        try {
          applied.push([p, applyOne.immediate(p.batch)]);
        } catch (e) {
          p.reject(e);
        }
      }
    }
    if (!applied.length) return;
    if (!opts.fsync) {
      for (const [p, o] of applied) p.resolve(o);
      return;
    }
    syncWal().then(
      () => {
        for (const [p, o] of applied) p.resolve(o);
      },
      (e: unknown) => {
        for (const [p] of applied)
          p.reject(unavailable(`could not flush the write-ahead log to disk (${errorMessage(e)}); retry later`));
      },
    );
  }

  return {
    ingestBatch(batch) {
      if (queue.length >= opts.queueMax) return Promise.reject(unavailable('ingest queue is full; retry later'));
      return new Promise<IngestOutcome>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setTimeout(flush, GROUP_COMMIT_WINDOW_MS);
        }
      });
    },
    async latestForHost(hostId) {
      return sqlite
        .prepare<[number], Stored & { query_key: string; updated_at: number }>(
          'SELECT query_key, rows, observed_at, epoch, counter, error, updated_at, seq FROM latest_results WHERE host_id = ? ORDER BY query_key',
        )
        .all(hostId)
        .map((r) => toLatest(hostId, r));
    },
    async latestForQueries(keys) {
      if (!keys.length) return [];
      const stmt = sqlite.prepare<string[], Stored & { host_id: number; query_key: string; updated_at: number }>(
        `SELECT host_id, query_key, rows, observed_at, epoch, counter, error, updated_at, seq FROM latest_results WHERE query_key IN (${keys.map(() => '?').join(',')})`,
      );
      return stmt.all(...keys).map((r) => toLatest(r.host_id, r));
    },
    async latestSince(since, keys) {
      if (!keys.length) return [];
      // `+query_key` keeps SQLite on the updated_at index (a range of recent rows) instead of the
      // query_key index, which would visit every host's row of every check
      const stmt = sqlite.prepare<unknown[], Stored & { host_id: number; query_key: string; updated_at: number }>(
        `SELECT host_id, query_key, rows, observed_at, epoch, counter, error, updated_at, seq FROM latest_results WHERE updated_at >= ? AND +query_key IN (${keys.map(() => '?').join(',')})`,
      );
      return stmt.all(since, ...keys).map((r) => toLatest(r.host_id, r));
    },
    async statusLogs(hostId, limit) {
      return sqlite
        .prepare<
          [number, number],
          {
            unix_time: number;
            severity: number;
            filename: string;
            line: number;
            message: string;
            version: string;
            received_at: number;
          }
        >(
          'SELECT unix_time, severity, filename, line, message, version, received_at FROM status_logs WHERE host_id = ? ORDER BY id DESC LIMIT ?',
        )
        .all(hostId, limit)
        .map((r) => ({
          unixTime: r.unix_time,
          severity: r.severity,
          filename: r.filename,
          line: r.line,
          message: r.message,
          version: r.version,
          receivedAt: r.received_at,
        }));
    },
  };
}

function toLatest(hostId: number, r: Stored & { query_key: string; updated_at: number }): LatestResult {
  return {
    hostId,
    queryKey: r.query_key,
    rows: parseJson<Row[]>(r.rows, []),
    observedAt: r.observed_at,
    epoch: r.epoch,
    counter: r.counter,
    error: r.error,
    updatedAt: r.updated_at,
    seq: r.seq,
  };
}
