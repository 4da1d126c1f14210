/** AccountMappingRepo: the admin's mappings of local account names to people (issue #13), in SQLite. */
import type Database from 'better-sqlite3';
import type { AccountMapping, AccountMappingRepo } from '../domain/ports.js';

interface Row {
  serial: string;
  account: string;
  person: string;
  created_at: number;
  created_by: string;
}

/** Every device is stored as '' (a primary-key column stays NOT NULL). */
const EVERY = '';

const toMapping = (r: Row): AccountMapping => ({
  serial: r.serial === EVERY ? null : r.serial,
  account: r.account,
  person: r.person,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export function createAccountMappingRepo(sqlite: Database.Database): AccountMappingRepo {
  const COLS = 'serial, account, person, created_at, created_by';
  const all = sqlite.prepare<[], Row>(`SELECT ${COLS} FROM account_mappings ORDER BY account, serial`);
  const one = sqlite.prepare<[string, string], Row>(
    `SELECT ${COLS} FROM account_mappings WHERE serial = ? AND account = ?`,
  );
  const upsert = sqlite.prepare(
    `INSERT INTO account_mappings (${COLS}) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (serial, account) DO UPDATE SET person = excluded.person, created_at = excluded.created_at,
     created_by = excluded.created_by`,
  );
  const del = sqlite.prepare<[string, string]>('DELETE FROM account_mappings WHERE serial = ? AND account = ?');
  const put = sqlite.transaction((m: AccountMapping): Row | undefined => {
    const prior = one.get(m.serial ?? EVERY, m.account);
    upsert.run(m.serial ?? EVERY, m.account, m.person, m.createdAt, m.createdBy);
    return prior;
  });
  const remove = sqlite.transaction((serial: string, account: string): Row | undefined => {
    const prior = one.get(serial, account);
    if (prior) del.run(serial, account);
    return prior;
  });
  return {
    async list() {
      return all.all().map(toMapping);
    },
    async put(m) {
      const prior = put(m);
      return prior ? toMapping(prior) : undefined;
    },
    async remove(serial, account) {
      const prior = remove(serial ?? EVERY, account);
      return prior ? toMapping(prior) : undefined;
    },
  };
}
