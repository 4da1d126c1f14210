import type Database from 'better-sqlite3';
import type { CheckStateRepo } from '../domain/ports.js';
import type { CheckState, CheckStatus, Row } from '../domain/types.js';
import { parseJson } from './rows.js';

interface StateRow { host_id: number; check_id: string; status: string; observed: string; message: string; observed_at: number | null; first_failed_at: number | null; last_passed_at: number | null; error: string | null }

const toState = (r: StateRow): CheckState => ({
  hostId: r.host_id, checkId: r.check_id, status: r.status as CheckStatus, observed: parseJson<Row[]>(r.observed, []), message: r.message,
  observedAt: r.observed_at, firstFailedAt: r.first_failed_at, lastPassedAt: r.last_passed_at, error: r.error,
});

export function createCheckStateRepo(sqlite: Database.Database): CheckStateRepo {
  const upsert = sqlite.prepare(`INSERT INTO check_states (host_id, check_id, status, observed, message, observed_at, first_failed_at, last_passed_at, error)
    VALUES (@hostId, @checkId, @status, @observed, @message, @observedAt, @firstFailedAt, @lastPassedAt, @error)
    ON CONFLICT (host_id, check_id) DO UPDATE SET status = excluded.status, observed = excluded.observed, message = excluded.message,
      observed_at = excluded.observed_at, first_failed_at = excluded.first_failed_at, last_passed_at = excluded.last_passed_at, error = excluded.error`);
  const exists = sqlite.prepare<[number], { id: number }>('SELECT id FROM hosts WHERE id = ?');
  const putMany = sqlite.transaction((states: readonly CheckState[]) => {
    for (const s of states) if (exists.get(s.hostId)) upsert.run({ ...s, observed: JSON.stringify(s.observed) });
  });
  return {
    async putMany(states) {
      if (states.length) putMany.immediate(states);
    },
    async forHost(hostId) {
      return sqlite.prepare<[number], StateRow>('SELECT * FROM check_states WHERE host_id = ? ORDER BY check_id').all(hostId).map(toState);
    },
    async all(opts = {}) {
      if (opts.observed ?? true) return sqlite.prepare<[], StateRow>('SELECT * FROM check_states ORDER BY host_id, check_id').all().map(toState);
      const none: Row[] = [];
      return sqlite.prepare<[], Omit<StateRow, 'observed'>>(`SELECT host_id, check_id, status, message, observed_at, first_failed_at, last_passed_at, error
        FROM check_states ORDER BY host_id, check_id`).all().map((r) => ({
        hostId: r.host_id, checkId: r.check_id, status: r.status as CheckStatus, observed: none, message: r.message,
        observedAt: r.observed_at, firstFailedAt: r.first_failed_at, lastPassedAt: r.last_passed_at, error: r.error,
      }));
    },
  };
}
