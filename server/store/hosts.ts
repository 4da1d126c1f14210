import { and, eq, sql, ne } from 'drizzle-orm';
import type { EnrollOutcome, EnrollRecord, HostFilter, HostRepo } from '../domain/ports.js';
import type { Host, Platform } from '../domain/types.js';
import type { Db } from './open.js';
import { hosts } from './schema.js';
import { parseDetails, toHost } from './rows.js';

/**
 * The columns of a Host, details JSON left out (read it with `details`), last-seen time from the narrow
 * `host_seen` table (written every second; see `touch`). Rows are read raw (arrays): the warm start reads
 * every host, and drizzle's per-row mapping of every column (details included) was most of that time.
 */
const HOST_SELECT = `SELECT h.id, h.serial, h.hardware_uuid, h.host_identifier, h.hostname, h.platform, h.os_platform, h.os_name,
  h.os_version, h.osquery_version, h.hardware_vendor, h.hardware_model, h.enrolled_at, coalesce(s.last_seen_at, h.enrolled_at),
  h.serial_conflict, h.enroll_secret_name
  FROM hosts h LEFT JOIN host_seen s ON s.host_id = h.id`;

type RawHost = [
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  number,
  string,
];

const fromRaw = (r: RawHost): Host => ({
  id: r[0],
  serial: r[1],
  hardwareUuid: r[2],
  hostIdentifier: r[3],
  hostname: r[4],
  platform: r[5] as Platform,
  osPlatform: r[6],
  osName: r[7],
  osVersion: r[8],
  osqueryVersion: r[9],
  hardwareVendor: r[10],
  hardwareModel: r[11],
  enrolledAt: r[12],
  lastSeenAt: r[13],
  serialConflict: r[14] === 1,
  enrollSecretName: r[15],
});

export function createHostRepo(db: Db): HostRepo {
  const sqlite = db.$client;
  const touchStmt = sqlite.prepare('UPDATE host_seen SET last_seen_at = max(last_seen_at, ?) WHERE host_id = ?');
  const touchMany = sqlite.transaction((seen: ReadonlyArray<{ id: number; at: number }>) => {
    for (const s of seen) touchStmt.run(s.at, s.id);
  });
  const seenAt = sqlite.prepare(`INSERT INTO host_seen (host_id, last_seen_at) VALUES (?, ?)
    ON CONFLICT (host_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`);
  const byNodeKey = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.node_key_hash = ?`).raw(true);
  const byId = sqlite.prepare<[number], RawHost>(`${HOST_SELECT} WHERE h.id = ?`).raw(true);
  const bySerial = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.serial = ? ORDER BY h.id`).raw(true);
  const listAll = sqlite.prepare<[], RawHost>(`${HOST_SELECT} ORDER BY h.id`).raw(true);

  const enrollTx = sqlite.transaction((rec: EnrollRecord): EnrollOutcome => {
    const fields = {
      hostIdentifier: rec.hostIdentifier,
      hostname: rec.hostname,
      platform: rec.platform,
      osPlatform: rec.osPlatform,
      osName: rec.osName,
      osVersion: rec.osVersion,
      osqueryVersion: rec.osqueryVersion,
      hardwareVendor: rec.hardwareVendor,
      hardwareModel: rec.hardwareModel,
      details: JSON.stringify(rec.details),
      nodeKeyHash: rec.nodeKeyHash,
      enrollSecretName: rec.enrollSecretName,
    };
    const existing = db
      .select()
      .from(hosts)
      .where(and(eq(hosts.serial, rec.serial), eq(hosts.hardwareUuid, rec.hardwareUuid)))
      .get();
    if (existing) {
      const row = db.update(hosts).set(fields).where(eq(hosts.id, existing.id)).returning().get();
      seenAt.run(row.id, rec.at);
      return {
        host: toHost({ ...row, lastSeenAt: rec.at }),
        reenrolled: true,
        revokedNodeKeyHash: existing.nodeKeyHash,
      };
    }
    const others = db
      .select({ id: hosts.id })
      .from(hosts)
      .where(and(eq(hosts.serial, rec.serial), ne(hosts.hardwareUuid, rec.hardwareUuid)))
      .all();
    if (others.length > 0) db.update(hosts).set({ serialConflict: 1 }).where(eq(hosts.serial, rec.serial)).run();
    const row = db
      .insert(hosts)
      .values({
        ...fields,
        serial: rec.serial,
        hardwareUuid: rec.hardwareUuid,
        serialConflict: others.length > 0 ? 1 : 0,
        enrolledAt: rec.at,
      })
      .returning()
      .get();
    seenAt.run(row.id, rec.at);
    return { host: toHost({ ...row, lastSeenAt: rec.at }), reenrolled: false, revokedNodeKeyHash: null };
  });

  return {
    async enroll(rec) {
      return enrollTx.immediate(rec);
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
      const conds: string[] = [];
      const params: Array<string | number> = [];
      if (filter.platform) {
        conds.push('h.platform = ?');
        params.push(filter.platform);
      }
      if (filter.search) {
        const q = `%${filter.search.replace(/[%_]/g, (c) => `\\${c}`)}%`;
        conds.push(`(h.serial LIKE ? ESCAPE '\\' OR h.hostname LIKE ? ESCAPE '\\' OR h.hardware_uuid LIKE ?)`);
        params.push(q, q, q);
      }
      const where = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
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
