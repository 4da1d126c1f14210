import { and, eq, like, or, sql, ne, asc } from 'drizzle-orm';
import type { EnrollOutcome, EnrollRecord, HostFilter, HostRepo } from '../domain/ports.js';
import type { Db } from './open.js';
import { hosts } from './schema.js';
import { parseDetails, toHost } from './rows.js';

export function createHostRepo(db: Db): HostRepo {
  const touchStmt = db.$client.prepare('UPDATE hosts SET last_seen_at = max(last_seen_at, ?) WHERE id = ?');
  const touchMany = db.$client.transaction((seen: ReadonlyArray<{ id: number; at: number }>) => {
    for (const s of seen) touchStmt.run(s.at, s.id);
  });

  const enrollTx = db.$client.transaction((rec: EnrollRecord): EnrollOutcome => {
    const fields = {
      hostIdentifier: rec.hostIdentifier, hostname: rec.hostname, platform: rec.platform, osPlatform: rec.osPlatform,
      osName: rec.osName, osVersion: rec.osVersion, osqueryVersion: rec.osqueryVersion, hardwareVendor: rec.hardwareVendor,
      hardwareModel: rec.hardwareModel, details: JSON.stringify(rec.details), nodeKeyHash: rec.nodeKeyHash,
      enrollSecretName: rec.enrollSecretName, lastSeenAt: rec.at,
    };
    const existing = db.select().from(hosts).where(and(eq(hosts.serial, rec.serial), eq(hosts.hardwareUuid, rec.hardwareUuid))).get();
    if (existing) {
      const row = db.update(hosts).set(fields).where(eq(hosts.id, existing.id)).returning().get();
      return { host: toHost(row), reenrolled: true, revokedNodeKeyHash: existing.nodeKeyHash };
    }
    const others = db.select({ id: hosts.id }).from(hosts).where(and(eq(hosts.serial, rec.serial), ne(hosts.hardwareUuid, rec.hardwareUuid))).all();
    if (others.length > 0) db.update(hosts).set({ serialConflict: 1 }).where(eq(hosts.serial, rec.serial)).run();
    const row = db.insert(hosts).values({
      ...fields, serial: rec.serial, hardwareUuid: rec.hardwareUuid, serialConflict: others.length > 0 ? 1 : 0, enrolledAt: rec.at,
    }).returning().get();
    return { host: toHost(row), reenrolled: false, revokedNodeKeyHash: null };
  });

  return {
    async enroll(rec) {
      return enrollTx.immediate(rec);
    },
    async findByNodeKeyHash(hash) {
      const r = db.select().from(hosts).where(eq(hosts.nodeKeyHash, hash)).get();
      return r ? toHost(r) : undefined;
    },
    async get(id) {
      const r = db.select().from(hosts).where(eq(hosts.id, id)).get();
      return r ? toHost(r) : undefined;
    },
    async findBySerial(serial) {
      return db.select().from(hosts).where(eq(hosts.serial, serial)).orderBy(asc(hosts.id)).all().map(toHost);
    },
    async list(filter: HostFilter = {}) {
      const conds = [];
      if (filter.platform) conds.push(eq(hosts.platform, filter.platform));
      if (filter.search) {
        const q = `%${filter.search.replace(/[%_]/g, (c) => `\\${c}`)}%`;
        conds.push(or(sql`${hosts.serial} LIKE ${q} ESCAPE '\\'`, sql`${hosts.hostname} LIKE ${q} ESCAPE '\\'`, like(hosts.hardwareUuid, q)));
      }
      return db.select().from(hosts).where(conds.length ? and(...conds) : undefined).orderBy(asc(hosts.id))
        .limit(filter.limit ?? -1).offset(filter.offset ?? 0).all().map(toHost);
    },
    async details(id) {
      const r = db.select({ details: hosts.details }).from(hosts).where(eq(hosts.id, id)).get();
      return r ? parseDetails(r.details) : undefined;
    },
    async touch(seen) {
      if (seen.length) touchMany(seen);
    },
    async unenroll(id) {
      const r = db.delete(hosts).where(eq(hosts.id, id)).returning({ hash: hosts.nodeKeyHash, serial: hosts.serial }).get();
      if (r) {
        const rest = db.select({ uuid: hosts.hardwareUuid }).from(hosts).where(eq(hosts.serial, r.serial)).all();
        if (rest.length === 1) db.update(hosts).set({ serialConflict: 0 }).where(eq(hosts.serial, r.serial)).run();
      }
      return r?.hash ?? null;
    },
    async count() {
      return db.select({ n: sql<number>`count(*)` }).from(hosts).get()?.n ?? 0;
    },
  };
}
