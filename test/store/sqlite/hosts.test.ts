/**
 * SQLite only: the narrow host_seen table and the migration that made it (the HostRepo contract is in
 * test/store/contract/hosts.ts).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { createHostRepo } from '../../../server/store/hosts.js';
import { MIGRATIONS_DIR, openSqlite } from '../../../server/store/open.js';
import { useTempSqlite } from '../../support/sqlite.js';
import { enrollRecord as rec, T0 } from '../contract/support.js';

describe('SQLite host_seen', () => {
  const tmp = useTempSqlite('tg-hosts');

  it('keeps no last-seen row of an unenrolled host, even when it is touched after', async () => {
    const repo = createHostRepo(tmp.opened.db);
    const a = (await repo.enroll(rec('A', T0))).host;
    const gone = (await repo.enroll(rec('GONE', T0))).host;
    await repo.unenroll(gone.id);
    await repo.touch([
      { id: gone.id, at: T0 + 10_000 },
      { id: a.id, at: T0 + 10_000 },
    ]);
    expect((await repo.get(a.id))?.lastSeenAt).to.equal(T0 + 10_000);
    expect(tmp.opened.sqlite.prepare('SELECT host_id FROM host_seen ORDER BY host_id').pluck().all()).to.deep.equal([
      a.id,
    ]);
  });
});

describe('migration 0001 (host_seen)', () => {
  it('moves every stored last-seen time out of hosts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-migrate-'));
    try {
      // the database as the first migration left it, with hosts stored
      const first = path.join(dir, 'first');
      fs.mkdirSync(path.join(first, 'meta'), { recursive: true });
      const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
        entries: Array<{ tag: string }>;
      };
      const tag = journal.entries[0]?.tag ?? '';
      fs.copyFileSync(path.join(MIGRATIONS_DIR, `${tag}.sql`), path.join(first, `${tag}.sql`));
      fs.writeFileSync(
        path.join(first, 'meta/_journal.json'),
        JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }),
      );
      const file = path.join(dir, 'old.db');
      const old = new Database(file);
      migrate(drizzle(old), { migrationsFolder: first });
      const insert = old.prepare(`INSERT INTO hosts (serial, hardware_uuid, host_identifier, hostname, platform,
          os_platform, os_name, os_version, osquery_version, hardware_vendor, hardware_model, details, node_key_hash,
          enroll_secret_name, enrolled_at, last_seen_at)
        VALUES (?, ?, ?, 'h', 'linux', 'ubuntu', 'Ubuntu', '24.04', '5.12.1', 'v', 'm', '{}', ?, 'default', ?, ?)`);
      insert.run('S1', 'U1', 'S1', 'k1', T0, T0 + 111);
      insert.run('S2', 'U2', 'S2', 'k2', T0, T0 + 222);
      old.close();

      const opened = openSqlite(file);
      try {
        const hosts = await createHostRepo(opened.db).list();
        expect(hosts.map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([
          ['S1', T0 + 111],
          ['S2', T0 + 222],
        ]);
        const cols = opened.sqlite.prepare("SELECT name FROM pragma_table_info('hosts')").pluck().all();
        expect(cols).to.not.include('last_seen_at');
      } finally {
        opened.sqlite.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
