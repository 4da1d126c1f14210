import type Database from 'better-sqlite3';
import type { CheckStateRepo } from '../domain/ports.js';
import type { CheckState, CheckStateColumns, CheckStatus, Row } from '../domain/types.js';
import { parseJson } from './rows.js';

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

const toState = (r: StateRow): CheckState => ({
  hostId: r.host_id,
  checkId: r.check_id,
  status: r.status as CheckStatus,
  observed: parseJson<Row[]>(r.observed, []),
  message: r.message,
  observedAt: r.observed_at,
  firstFailedAt: r.first_failed_at,
  lastPassedAt: r.last_passed_at,
  error: r.error,
  resultSeq: r.result_seq,
});

type ColumnRow = [
  number,
  number,
  number,
  number | null,
  number | null,
  number | null,
  string | null,
  string | null,
  number | null,
];

function emptyColumns(n: number): CheckStateColumns {
  return {
    length: n,
    hostId: new Float64Array(n),
    check: new Uint16Array(n),
    status: new Uint8Array(n),
    observedAt: new Float64Array(n),
    firstFailedAt: new Float64Array(n),
    lastPassedAt: new Float64Array(n),
    resultSeq: new Float64Array(n),
    message: new Map(),
    error: new Map(),
  };
}

/** The first `n` states of `c` (copies of the numeric columns, so the unused tail is freed). */
function truncated(c: CheckStateColumns, n: number): CheckStateColumns {
  return {
    length: n,
    hostId: c.hostId.slice(0, n),
    check: c.check.slice(0, n),
    status: c.status.slice(0, n),
    observedAt: c.observedAt.slice(0, n),
    firstFailedAt: c.firstFailedAt.slice(0, n),
    lastPassedAt: c.lastPassedAt.slice(0, n),
    resultSeq: c.resultSeq.slice(0, n),
    message: c.message,
    error: c.error,
  };
}

export function createCheckStateRepo(sqlite: Database.Database): CheckStateRepo {
  const upsert =
    sqlite.prepare(`INSERT INTO check_states (host_id, check_id, status, observed, message, observed_at, first_failed_at, last_passed_at, error, result_seq)
    VALUES (@hostId, @checkId, @status, @observed, @message, @observedAt, @firstFailedAt, @lastPassedAt, @error, @resultSeq)
    ON CONFLICT (host_id, check_id) DO UPDATE SET status = excluded.status, observed = excluded.observed, message = excluded.message,
      observed_at = excluded.observed_at, first_failed_at = excluded.first_failed_at, last_passed_at = excluded.last_passed_at, error = excluded.error,
      result_seq = excluded.result_seq`);
  const exists = sqlite.prepare<[number], { id: number }>('SELECT id FROM hosts WHERE id = ?');
  const putMany = sqlite.transaction((states: readonly CheckState[]) => {
    for (const s of states) if (exists.get(s.hostId)) upsert.run({ ...s, observed: JSON.stringify(s.observed) });
  });
  // Warm start: raw rows (no per-row objects), the check id and status turned into small codes by SQLite,
  // text only where a verdict shows it. The columns are sized from the (cheap) count of every row, read in
  // the same transaction (one snapshot), so the rows matched never outnumber it.
  const count = sqlite.prepare<[], number>('SELECT count(*) FROM check_states').pluck();
  const columnReaders = new Map<string, Database.Statement<string[], ColumnRow>>();
  const columnsOf = (checkIds: readonly string[]): CheckStateColumns => {
    if (!checkIds.length) return emptyColumns(0);
    const key = checkIds.join('\u0000');
    let stmt = columnReaders.get(key);
    if (!stmt) {
      const marks = checkIds.map(() => '?').join(', ');
      stmt = sqlite
        .prepare<string[], ColumnRow>(
          `SELECT host_id, CASE check_id ${checkIds.map((_, i) => `WHEN ? THEN ${i}`).join(' ')} END,
          CASE status WHEN 'pass' THEN 1 WHEN 'fail' THEN 2 WHEN 'error' THEN 3 ELSE 0 END,
          observed_at, first_failed_at, last_passed_at, CASE status WHEN 'fail' THEN message END, CASE status WHEN 'error' THEN error END, result_seq
        FROM check_states WHERE check_id IN (${marks})`,
        )
        .raw(true);
      columnReaders.clear();
      columnReaders.set(key, stmt);
    }
    const cap = count.get() ?? 0;
    const cols = emptyColumns(cap);
    let n = 0;
    for (const r of stmt.iterate(...checkIds, ...checkIds)) {
      if (n === cap) throw new Error('check state columns: more rows than counted');
      cols.hostId[n] = r[0];
      cols.check[n] = r[1];
      cols.status[n] = r[2];
      cols.observedAt[n] = r[3] ?? NaN;
      cols.firstFailedAt[n] = r[4] ?? NaN;
      cols.lastPassedAt[n] = r[5] ?? NaN;
      cols.resultSeq[n] = r[8] ?? NaN;
      if (r[6] !== null) cols.message.set(n, r[6]);
      if (r[7] !== null) cols.error.set(n, r[7]);
      n++;
    }
    return n === cap ? cols : truncated(cols, n);
  };
  const readColumns = sqlite.transaction(columnsOf);

  return {
    async columns(checkIds) {
      if (checkIds.length > 0xffff) throw new RangeError('check state columns: more than 65535 checks');
      return readColumns.deferred(checkIds);
    },
    async putMany(states) {
      if (states.length) putMany.immediate(states);
    },
    async forHost(hostId) {
      return sqlite
        .prepare<[number], StateRow>('SELECT * FROM check_states WHERE host_id = ? ORDER BY check_id')
        .all(hostId)
        .map(toState);
    },
    async all(opts = {}) {
      if (opts.observed ?? true)
        return sqlite.prepare<[], StateRow>('SELECT * FROM check_states ORDER BY host_id, check_id').all().map(toState);
      const none: Row[] = [];
      return sqlite
        .prepare<[], Omit<StateRow, 'observed'>>(
          `SELECT host_id, check_id, status, message, observed_at, first_failed_at, last_passed_at, error, result_seq
        FROM check_states ORDER BY host_id, check_id`,
        )
        .all()
        .map((r) => ({
          hostId: r.host_id,
          checkId: r.check_id,
          status: r.status as CheckStatus,
          observed: none,
          message: r.message,
          observedAt: r.observed_at,
          firstFailedAt: r.first_failed_at,
          lastPassedAt: r.last_passed_at,
          error: r.error,
          resultSeq: r.result_seq,
        }));
    },
  };
}
