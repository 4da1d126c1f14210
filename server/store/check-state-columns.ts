/**
 * The warm start's read of check states as columns (CheckStateColumns): raw rows, no per-row objects, the
 * check id and status turned into small codes by SQLite, text only where a verdict shows it.
 */
import type Database from 'better-sqlite3';
import type { CheckStateColumns } from '../domain/types.js';

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

/** Returns `read(checkIds)`: every stored state of those checks, in one read transaction (one snapshot). */
export function createColumnsReader(sqlite: Database.Database): (checkIds: readonly string[]) => CheckStateColumns {
  // the columns are sized from the (cheap) count of every row, read in the same transaction (one
  // snapshot), so the rows matched never outnumber it
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
          observed_at, first_failed_at, last_passed_at, CASE status WHEN 'fail' THEN message END,
          CASE status WHEN 'error' THEN error END, result_seq
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
  return (checkIds) => readColumns.deferred(checkIds);
}
