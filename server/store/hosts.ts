/**
 * The SQLite HostRepo: look-ups and lists of hosts (raw rows, see host-select.ts), enrollment (host-enroll.ts),
 * last-seen times (the narrow host_seen table), unenrollment (cascading to everything of the host).
 */
import { eq, sql } from 'drizzle-orm';
import type { HostFilter, HostRepo } from '../domain/ports.js';
import type { Host } from '../domain/types.js';
import { createEnroll } from './host-enroll.js';
import { HOST_SELECT, fromRaw, listWhere, type RawHost } from './host-select.js';
import type { Db } from './open.js';
import { parseDetails } from './rows.js';
import { hosts } from './schema.js';

export function createHostRepo(db: Db): HostRepo {
  const sqlite = db.$client;
  const touchStmt = sqlite.prepare('UPDATE host_seen SET last_seen_at = max(last_seen_at, ?) WHERE host_id = ?');
  const touchMany = sqlite.transaction((seen: ReadonlyArray<{ id: number; at: number }>) => {
    for (const s of seen) touchStmt.run(s.at, s.id);
  });
  const byNodeKey = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.node_key_hash = ?`).raw(true);
  const byId = sqlite.prepare<[number], RawHost>(`${HOST_SELECT} WHERE h.id = ?`).raw(true);
  const bySerial = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.serial = ? ORDER BY h.id`).raw(true);
  const listAll = sqlite.prepare<[], RawHost>(`${HOST_SELECT} ORDER BY h.id`).raw(true);
  const enroll = createEnroll(db);

  return {
    async enroll(rec) {
      return enroll(rec);
    },
    async findByNodeKeyHash(hash) {
      const r = byNodeKey.get(hash);
      return r ? fromRaw(r) : undefined;
    },
    async get(id) {
      const r = byId.get(id);
      return r ? fromRaw(r) : undefined;
    },
    async findBySerial(serial) {
      return bySerial.all(serial).map(fromRaw);
    },
    async list(filter: HostFilter = {}) {
      if (!filter.platform && !filter.search && filter.limit === undefined && !filter.offset) {
        const out: Host[] = [];
        for (const r of listAll.iterate()) out.push(fromRaw(r));
        return out;
      }
      const { where, params } = listWhere(filter);
      return sqlite
        .prepare<Array<string | number>, RawHost>(`${HOST_SELECT}${where} ORDER BY h.id LIMIT ? OFFSET ?`)
        .raw(true)
        .all(...params, filter.limit ?? -1, filter.offset ?? 0)
        .map(fromRaw);
    },
    async details(id) {
      const r = db.select({ details: hosts.details }).from(hosts).where(eq(hosts.id, id)).get();
      return r ? parseDetails(r.details) : undefined;
    },
    async touch(seen) {
      if (seen.length) touchMany(seen);
    },
    async unenroll(id) {
      const r = db
        .delete(hosts)
        .where(eq(hosts.id, id))
        .returning({ hash: hosts.nodeKeyHash, serial: hosts.serial })
        .get();
      if (r) {
        const rest = db.select({ uuid: hosts.hardwareUuid }).from(hosts).where(eq(hosts.serial, r.serial)).all();
        if (rest.length === 1) db.update(hosts).set({ serialConflict: 0 }).where(eq(hosts.serial, r.serial)).run();
      }
      return r?.hash ?? null;
    },
    async count() {
      return (
        db
          .select({ n: sql<number>`count(*)` })
          .from(hosts)
          .get()?.n ?? 0
      );
    },
  };
}
