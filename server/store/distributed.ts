/**
 * The SQLite DistributedRepo: the queue of distributed queries per host (rechecks and live queries),
 * handed out and resent when unanswered, their answers, and a live-query campaign's results. Handing
 * out and completing are a write per agent request (100,000 of each in the fleet's first wave at 100k
 * hosts): they wait while the connection's write gate is held, like the other bulk writes (gatedWrite).
 */
import type Database from 'better-sqlite3';
import type { DistributedAnswer, DistributedRepo } from '../domain/ports.js';
import type { DistributedQuery } from '../domain/types.js';
import { parseJson } from './rows.js';
import { gatedWrite } from './write-gate.js';

interface QRow {
  id: string;
  host_id: number;
  sql: string;
  kind: string;
  ref: string;
  created_at: number;
  sent_at: number | null;
  completed_at: number | null;
  status: number | null;
  message: string | null;
  rows: string | null;
}
const toQuery = (r: QRow): DistributedQuery => ({
  id: r.id,
  hostId: r.host_id,
  sql: r.sql,
  kind: r.kind as DistributedQuery['kind'],
  ref: r.ref,
  createdAt: r.created_at,
  sentAt: r.sent_at,
  completedAt: r.completed_at,
});

/**
 * The hosts with open queries, read from the partial index of open queries (`distributed_open`, by
 * `created_at`), never by walking the answered ones, which stay in the table: all of them (at start), and
 * those queued since a time (the work queue's sync every 2 s). At 100k hosts the sync's full walk was a
 * 55-75 ms stall every 2 s. The hint keeps the plan from resting on the planner's guess (the store keeps
 * no table statistics).
 */
export const OPEN_HOSTS_SQL =
  'SELECT DISTINCT host_id FROM distributed_queries INDEXED BY distributed_open WHERE completed_at IS NULL';
export const OPEN_HOSTS_SINCE_SQL = `${OPEN_HOSTS_SQL} AND created_at >= ?`;

/**
 * The oldest answered queries, at most `limit` answered before a time, deleted by the partial index of
 * answered queries (`distributed_answered`, by `completed_at`, the rowid in it): a batch reads only what
 * it deletes, however many are kept or open.
 */
export const PRUNE_ANSWERED_SQL = `DELETE FROM distributed_queries WHERE rowid IN (
  SELECT rowid FROM distributed_queries INDEXED BY distributed_answered
  WHERE completed_at IS NOT NULL AND completed_at < ? ORDER BY completed_at LIMIT ?)`;

export function createDistributedRepo(sqlite: Database.Database): DistributedRepo {
  // a query of a host unenrolled meanwhile is skipped (the host and all of its queries are gone) rather
  // than failing the host's foreign key; a query id already queued is ignored (enqueue is idempotent)
  const insert = sqlite.prepare(
    `INSERT OR IGNORE INTO distributed_queries (id, host_id, sql, kind, ref, created_at)
    SELECT @id, @hostId, @sql, @kind, @ref, @createdAt WHERE EXISTS (SELECT 1 FROM hosts WHERE id = @hostId)`,
  );
  const enqueue = sqlite.transaction((items: ReadonlyArray<Omit<DistributedQuery, 'sentAt' | 'completedAt'>>) => {
    for (const q of items) insert.run(q);
  });
  // one statement marks and returns what is due (RETURNING has no order: sorted here, by queue order)
  const markDue = sqlite.prepare<[number, number, number], QRow>(
    `UPDATE distributed_queries SET sent_at = ?
    WHERE host_id = ? AND completed_at IS NULL AND (sent_at IS NULL OR sent_at < ?) RETURNING *`,
  );
  const byQueueOrder = (a: QRow, b: QRow) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const take = (hostId: number, now: number, resendAfterMs: number) =>
    markDue
      .all(now, hostId, now - resendAfterMs)
      .sort(byQueueOrder)
      .map(toQuery);
  const hasPending = sqlite.prepare<[number], { n: number }>(
    'SELECT count(*) AS n FROM distributed_queries WHERE host_id = ? AND completed_at IS NULL',
  );
  const get = sqlite.prepare<[string, number], QRow>('SELECT * FROM distributed_queries WHERE id = ? AND host_id = ?');
  const sentSince = sqlite.prepare<[number, string, number], QRow>(
    'SELECT * FROM distributed_queries WHERE host_id = ? AND kind = ? AND sent_at >= ? ORDER BY sent_at, id',
  );
  const openHosts = sqlite.prepare<[], { host_id: number }>(OPEN_HOSTS_SQL);
  const openHostsSince = sqlite.prepare<[number], { host_id: number }>(OPEN_HOSTS_SINCE_SQL);
  const complete = sqlite.prepare(
    'UPDATE distributed_queries SET completed_at = ?, status = ?, message = ?, rows = ? WHERE id = ?',
  );
  const completeAll = sqlite.transaction(
    (hostId: number, answers: ReadonlyArray<{ id: string; answer: DistributedAnswer }>, at: number) =>
      answers.map(({ id, answer }): DistributedQuery | undefined => {
        const r = get.get(id, hostId);
        if (!r) return undefined;
        // a live query's rows are its campaign's results; a recheck's or an enrollment-time check's
        // become the check's latest results (the result store), so the queue keeps only their status
        complete.run(at, answer.status, answer.message, r.kind === 'live' ? JSON.stringify(answer.rows) : null, id);
        return { ...toQuery(r), completedAt: at };
      }),
  );
  const pruneAnswered = sqlite.prepare<[number, number]>(PRUNE_ANSWERED_SQL);
  return {
    async enqueue(items) {
      if (items.length) enqueue.immediate(items);
    },
    takePending: gatedWrite(sqlite, take),
    async hasPending(hostId) {
      return (hasPending.get(hostId)?.n ?? 0) > 0;
    },
    complete: gatedWrite(sqlite, completeAll.immediate),
    async pendingHostIds(since) {
      return (since === undefined ? openHosts.all() : openHostsSince.all(since)).map((r) => r.host_id);
    },
    async sentSince(hostId, kind, since) {
      return sentSince.all(hostId, kind, since).map((r) => ({
        ...toQuery(r),
        rows: r.rows === null ? null : parseJson<unknown[] | null>(r.rows, null),
      }));
    },
    pruneAnswered: gatedWrite(sqlite, (before: number, limit: number) => pruneAnswered.run(before, limit).changes),
    async campaignResults(ref) {
      return sqlite
        .prepare<[string], QRow>('SELECT * FROM distributed_queries WHERE ref = ? ORDER BY host_id')
        .all(ref)
        .map((r) => ({
          hostId: r.host_id,
          id: r.id,
          status: r.status,
          message: r.message,
          rows: r.rows === null ? null : parseJson<unknown[]>(r.rows, []),
          completedAt: r.completed_at,
        }));
    },
  };
}
