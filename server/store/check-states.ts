/**
 * The SQLite CheckStateRepo: the derived state of each (host, check), written behind by the posture
 * engine in slices of a few milliseconds (write-slices.ts; a host unenrolled meanwhile is skipped), read
 * per host, whole, or as columns at warm start (check-state-columns.ts).
 */
import type Database from 'better-sqlite3';
import type { CheckStateRepo } from '../domain/ports.js';
import type { CheckState, CheckStatus, Row } from '../domain/types.js';
import { createColumnsReader } from './check-state-columns.js';
import { parseJson } from './rows.js';
import { slicedWriter } from './write-slices.js';

interface StateRow {
  host_id: number;
  check_id: string;
  status: string;
  observed: string;
  message: string;
  observed_at: number | null;
  first_failed_at: number | null;
  last_passed_at: number | null;
  error: string | null;
  result_seq: number | null;
}

/** A stored state; `observed` parsed from the row, or given (the warm start's read skips the rows). */
const toState = (r: Omit<StateRow, 'observed'>, observed: Row[]): CheckState => ({
  hostId: r.host_id,
  checkId: r.check_id,
  status: r.status as CheckStatus,
  observed,
  message: r.message,
  observedAt: r.observed_at,
  firstFailedAt: r.first_failed_at,
  lastPassedAt: r.last_passed_at,
  error: r.error,
  resultSeq: r.result_seq,
});
const withObserved = (r: StateRow): CheckState => toState(r, parseJson<Row[]>(r.observed, []));

const UPSERT_STATE = `INSERT INTO check_states
    (host_id, check_id, status, observed, message, observed_at, first_failed_at, last_passed_at, error, result_seq)
  VALUES (@hostId, @checkId, @status, @observed, @message, @observedAt, @firstFailedAt, @lastPassedAt, @error,
    @resultSeq)
  ON CONFLICT (host_id, check_id) DO UPDATE SET status = excluded.status, observed = excluded.observed,
    message = excluded.message, observed_at = excluded.observed_at, first_failed_at = excluded.first_failed_at,
    last_passed_at = excluded.last_passed_at, error = excluded.error, result_seq = excluded.result_seq`;

export function createCheckStateRepo(sqlite: Database.Database): CheckStateRepo {
  const upsert = sqlite.prepare(UPSERT_STATE);
  const exists = sqlite.prepare<[number], { id: number }>('SELECT id FROM hosts WHERE id = ?');
  const readColumns = createColumnsReader(sqlite);
  // a flush after a wave of results holds thousands of states: written in slices (write-slices.ts)
  const putMany = slicedWriter(sqlite, (s: CheckState) => {
    if (exists.get(s.hostId)) upsert.run({ ...s, observed: JSON.stringify(s.observed) });
  });

  return {
    async columns(checkIds) {
      if (checkIds.length > 0xffff) throw new RangeError('check state columns: more than 65535 checks');
      return readColumns(checkIds);
    },
    async putMany(states) {
      await putMany(states);
    },
    async forHost(hostId) {
      return sqlite
        .prepare<[number], StateRow>('SELECT * FROM check_states WHERE host_id = ? ORDER BY check_id')
        .all(hostId)
        .map(withObserved);
    },
    async all(opts = {}) {
      if (opts.observed ?? true)
        return sqlite
          .prepare<[], StateRow>('SELECT * FROM check_states ORDER BY host_id, check_id')
          .all()
          .map(withObserved);
      const none: Row[] = [];
      return sqlite
        .prepare<[], Omit<StateRow, 'observed'>>(
          `SELECT host_id, check_id, status, message, observed_at, first_failed_at, last_passed_at, error, result_seq
        FROM check_states ORDER BY host_id, check_id`,
        )
        .all()
        .map((r) => toState(r, none));
    },
  };
}
