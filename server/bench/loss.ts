/**
 * Results lost: every result set the server acknowledged to an agent, compared with what the server's
 * SQLite file holds in latest_results (opened read-only).
 */
import Database from 'better-sqlite3';
import type { Fleet } from '../sim/fleet.js';

const canonicalRows = (rows: ReadonlyArray<Record<string, unknown>>): string =>
  rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, String(r[k] ?? '')]),
      ),
    )
    .sort()
    .join('\n');

/** The server's query key for a logged name: `pack/<pack>/<query>` → `<pack>/<query>`. */
export const queryKeyOfLogName = (name: string): string => (name.startsWith('pack/') ? name.slice(5) : name);

/**
 * Compares every result set the server acknowledged to an agent with what latest_results holds.
 * A stored set that differs counts as lost unless it is newer than the acknowledged one.
 */
export function countLost(dbPath: string, fleet: Fleet, hosts: number): { checked: number; lost: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const ids = new Map<string, number>();
    for (const r of db.prepare('SELECT id, serial FROM hosts').all() as Array<{ id: number; serial: string }>)
      ids.set(r.serial, r.id);
    const stmt = db.prepare('SELECT rows, observed_at FROM latest_results WHERE host_id = ? AND query_key = ?');
    let checked = 0;
    let lost = 0;
    for (let i = 0; i < hosts; i++) {
      const sets = fleet.ackedSets(i);
      if (sets.length === 0) continue;
      const id = ids.get(fleet.agent(i).serial);
      for (const s of sets) {
        if (!s.exact) continue;
        checked++;
        if (id === undefined) {
          lost++;
          continue;
        }
        const row = stmt.get(id, queryKeyOfLogName(s.logName)) as { rows: string; observed_at: number } | undefined;
        if (!row) {
          lost++;
          continue;
        }
        const parsed: unknown = JSON.parse(row.rows);
        const stored = Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [];
        if (canonicalRows(stored) !== canonicalRows(s.rows) && row.observed_at <= s.unixTime * 1000) lost++;
      }
    }
    return { checked, lost };
  } finally {
    db.close();
  }
}
