/** Reads of the stored latest result sets and of the status logs, mapped to domain values. */
import type Database from 'better-sqlite3';
import type { ResultRepo } from '../domain/ports.js';
import type { LatestResult, Row } from '../domain/types.js';
import { parseJson } from './rows.js';

/** The columns of a stored set besides its rows (the writer reads these to order an update). */
export interface StoredMeta {
  observed_at: number;
  epoch: number;
  counter: number;
  error: string | null;
  updated_at: number;
  seq: number;
}

interface LatestRow extends StoredMeta {
  query_key: string;
  rows: string;
}

interface StatusRow {
  unix_time: number;
  severity: number;
  filename: string;
  line: number;
  message: string;
  version: string;
  received_at: number;
}

const LATEST_COLUMNS = 'query_key, rows, observed_at, epoch, counter, error, updated_at, seq';

/** `?, ?, …`: one placeholder per key. */
const marks = (keys: readonly string[]): string => keys.map(() => '?').join(',');

function toLatest(hostId: number, r: LatestRow): LatestResult {
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

export type ResultReads = Pick<ResultRepo, 'latestForHost' | 'latestForQueries' | 'latestSince' | 'statusLogs'>;

export function createResultReads(sqlite: Database.Database): ResultReads {
  return {
    async latestForHost(hostId) {
      return sqlite
        .prepare<[number], LatestRow>(
          `SELECT ${LATEST_COLUMNS} FROM latest_results WHERE host_id = ? ORDER BY query_key`,
        )
        .all(hostId)
        .map((r) => toLatest(hostId, r));
    },
    async latestForQueries(keys) {
      if (!keys.length) return [];
      const stmt = sqlite.prepare<string[], LatestRow & { host_id: number }>(
        `SELECT host_id, ${LATEST_COLUMNS} FROM latest_results WHERE query_key IN (${marks(keys)})`,
      );
      return stmt.all(...keys).map((r) => toLatest(r.host_id, r));
    },
    async latestSince(since, keys) {
      if (!keys.length) return [];
      // `+query_key` keeps SQLite on the updated_at index (a range of recent rows) instead of the
      // query_key index, which would visit every host's row of every check
      const stmt = sqlite.prepare<unknown[], LatestRow & { host_id: number }>(
        `SELECT host_id, ${LATEST_COLUMNS} FROM latest_results
        WHERE updated_at >= ? AND +query_key IN (${marks(keys)})`,
      );
      return stmt.all(since, ...keys).map((r) => toLatest(r.host_id, r));
    },
    async statusLogs(hostId, limit) {
      return sqlite
        .prepare<[number, number], StatusRow>(
          `SELECT unix_time, severity, filename, line, message, version, received_at FROM status_logs
          WHERE host_id = ? ORDER BY id DESC LIMIT ?`,
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
