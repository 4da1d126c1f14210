import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { EnrollRecord } from '../../server/domain/ports.js';
import { createHostRepo } from '../../server/store/hosts.js';
import { MIGRATIONS_DIR, openSqlite } from '../../server/store/open.js';
import { useTempSqlite } from '../support/sqlite.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

const rec = (serial: string, at: number, over: Partial<EnrollRecord> = {}): EnrollRecord => ({
  serial, hardwareUuid: `uuid-${serial}`, hostIdentifier: serial, hostname: `${serial}.local`, platform: 'darwin', osPlatform: 'darwin',
  osName: 'macOS', osVersion: '14.4', osqueryVersion: '5.12.1', hardwareVendor: 'Apple', hardwareModel: 'Mac', enrollSecretName: 'default',
  details: { system_info: { hardware_serial: serial } }, nodeKeyHash: `hash-${serial}-${at}`, at, ...over,
});

describe('createHostRepo last seen', () => {
  const tmp = useTempSqlite('tg-hosts');

  it('keeps the latest of the touched times, visible through every read, and survives a reopen', async () => {
    let repo = createHostRepo(tmp.opened.db);
    const a = (await repo.enroll(rec('A', T0))).host;
    const b = (await repo.enroll(rec('B', T0))).host;
    expect(a.lastSeenAt).to.equal(T0);
    await repo.touch([{ id: a.id, at: T0 + 5000 }, { id: b.id, at: T0 + 1000 }]);
    await repo.touch([{ id: a.id, at: T0 + 2000 }]); // older than what is stored: ignored
    tmp.reopen();
    repo = createHostRepo(tmp.opened.db);
    expect((await repo.get(a.id))?.lastSeenAt).to.equal(T0 + 5000);
    expect((await repo.findByNodeKeyHash(`hash-A-${T0}`))?.lastSeenAt).to.equal(T0 + 5000);
    expect((await repo.findBySerial('B')).map((h) => h.lastSeenAt)).to.deep.equal([T0 + 1000]);
    expect((await repo.list()).map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([['A', T0 + 5000], ['B', T0 + 1000]]);
    expect((await repo.list({ search: 'B', limit: 5 })).map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([['B', T0 + 1000]]);
  });

  it('sets the enrollment time on re-enrollment and ignores touches of unenrolled hosts', async () => {
    const repo = createHostRepo(tmp.opened.db);
    const a = (await repo.enroll(rec('A', T0))).host;
    const gone = (await repo.enroll(rec('GONE', T0))).host;
    await repo.touch([{ id: a.id, at: T0 + 9000 }]);
    const again = await repo.enroll(rec('A', T0 + 3000));
    expect([again.reenrolled, again.host.id, again.host.lastSeenAt]).to.deep.equal([true, a.id, T0 + 3000]);
    expect((await repo.get(a.id))?.lastSeenAt).to.equal(T0 + 3000);
    await repo.unenroll(gone.id);
    await repo.touch([{ id: gone.id, at: T0 + 10_000 }, { id: a.id, at: T0 + 10_000 }]);
    expect((await repo.get(a.id))?.lastSeenAt).to.equal(T0 + 10_000);
    expect(tmp.opened.sqlite.prepare('SELECT host_id FROM host_seen ORDER BY host_id').pluck().all()).to.deep.equal([a.id]);
  });
});

describe('migration 0001 (host_seen)', () => {
  it('moves every stored last-seen time out of hosts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-migrate-'));
    try {
      // the database as the first migration left it, with hosts stored
      const first = path.join(dir, 'first');
      fs.mkdirSync(path.join(first, 'meta'), { recursive: true });
      const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
      const tag = journal.entries[0]?.tag ?? '';
      fs.copyFileSync(path.join(MIGRATIONS_DIR, `${tag}.sql`), path.join(first, `${tag}.sql`));
      fs.writeFileSync(path.join(first, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
      const file = path.join(dir, 'old.db');
      const old = new Database(file);
      migrate(drizzle(old), { migrationsFolder: first });
      const insert = old.prepare(`INSERT INTO hosts (serial, hardware_uuid, host_identifier, hostname, platform, os_platform, os_name, os_version,
        osquery_version, hardware_vendor, hardware_model, details, node_key_hash, enroll_secret_name, enrolled_at, last_seen_at)
        VALUES (?, ?, ?, 'h', 'linux', 'ubuntu', 'Ubuntu', '24.04', '5.12.1', 'v', 'm', '{}', ?, 'default', ?, ?)`);
      insert.run('S1', 'U1', 'S1', 'k1', T0, T0 + 111);
      insert.run('S2', 'U2', 'S2', 'k2', T0, T0 + 222);
      old.close();

      const opened = openSqlite(file);
      try {
        const hosts = await createHostRepo(opened.db).list();
        expect(hosts.map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([['S1', T0 + 111], ['S2', T0 + 222]]);
        const cols = opened.sqlite.prepare('SELECT name FROM pragma_table_info(\'hosts\')').pluck().all();
        expect(cols).to.not.include('last_seen_at');
      } finally {
        opened.sqlite.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
