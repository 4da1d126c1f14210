/**
 * The SQLite HostRepo: look-ups and lists of hosts (raw rows, see host-select.ts), enrollment (host-enroll.ts),
 * last-seen times (the narrow host_seen table), unenrollment (cascading to everything of the host), and the
 * device-identity writes: enrollment state (approve), certificate binding, bulk unenroll by enroll secret.
 */
import { eq, sql } from 'drizzle-orm';
import type { HostFilter, HostRepo, UnenrolledHost } from '../domain/ports.js';
import type { EnrollState, Host } from '../domain/types.js';
import { createEnroll } from './host-enroll.js';
import { HOST_SELECT, certOf, fromRaw, listWhere, type RawHost } from './host-select.js';
import type { Db } from './open.js';
import type { Statement } from 'better-sqlite3';
import { parseDetails } from './rows.js';
import { hosts } from './schema.js';
import { slicedWriter } from './write-slices.js';

/**
 * A page of the active hosts' certificate columns, by id (the certificate index's refresh): read from the
 * covering index `hosts_enroll_state_certs` alone (test/store/sqlite/plans.test.ts checks the plan).
 */
export const ACTIVE_CERTS_SQL = `SELECT id, serial, cert_sha256, cert_sha1, cert_serial, cert_not_after FROM hosts
  WHERE enroll_state = 'active' AND id > ? ORDER BY id LIMIT ?`;

/** The device-identity writes and reads: enrollment state, certificate binding, pending hosts, bulk unenroll. */
function identityOps(
  sqlite: Db['$client'],
  byId: Statement<[number], RawHost>,
): Pick<
  HostRepo,
  'setEnrollState' | 'bindCert' | 'listPending' | 'countPending' | 'activeCerts' | 'states' | 'unenrollBySecret'
> {
  const pending = sqlite
    .prepare<[], RawHost>(`${HOST_SELECT} WHERE h.enroll_state = 'pending' ORDER BY h.id`)
    .raw(true);
  const countPending = sqlite.prepare<[], { n: number }>(
    "SELECT count(*) AS n FROM hosts WHERE enroll_state = 'pending'",
  );
  const activeCerts = sqlite
    .prepare<[number, number], [number, string, string | null, string | null, string | null, number | null]>(
      ACTIVE_CERTS_SQL,
    )
    .raw(true);
  const states = sqlite.prepare<[], { id: number; serial: string; state: EnrollState }>(
    'SELECT id, serial, enroll_state AS state FROM hosts',
  );
  const setState = sqlite.prepare<[string, string | null, number], { hash: string | null }>(
    'UPDATE hosts SET enroll_state = ?, pending_reason = ? WHERE id = ? RETURNING node_key_hash AS hash',
  );
  const bindCert = sqlite.prepare<[string, string, string, number, number]>(
    'UPDATE hosts SET cert_sha256 = ?, cert_sha1 = ?, cert_serial = ?, cert_not_after = ? WHERE id = ?',
  );
  const bySecret = sqlite.prepare<[string], UnenrolledHost>(
    'DELETE FROM hosts WHERE enroll_secret_name = ? RETURNING id, serial, node_key_hash AS nodeKeyHash',
  );
  return {
    async setEnrollState(id, state, reason) {
      const r = setState.get(state, state === 'pending' ? reason : null, id);
      if (!r) return undefined;
      const h = byId.get(id);
      return h ? { host: fromRaw(h), nodeKeyHash: r.hash } : undefined;
    },
    async bindCert(id, cert) {
      bindCert.run(cert.sha256, cert.sha1, cert.serial, cert.notAfter, id);
    },
    async listPending() {
      return pending.all().map(fromRaw);
    },
    async countPending() {
      return countPending.get()?.n ?? 0;
    },
    async activeCerts(page) {
      const rows = activeCerts.all(page?.afterId ?? 0, page?.limit ?? -1); // LIMIT -1: no limit (SQLite)
      return rows.map(([id, serial, sha256, sha1, certSerial, notAfter]) => ({
        id,
        serial,
        cert: certOf(sha256, sha1, certSerial, notAfter),
      }));
    },
    async states() {
      return states.all();
    },
    async unenrollBySecret(name) {
      return bySecret.all(name);
    },
  };
}

export function createHostRepo(db: Db): HostRepo {
  const sqlite = db.$client;
  const touchStmt = sqlite.prepare('UPDATE host_seen SET last_seen_at = max(last_seen_at, ?) WHERE host_id = ?');
  // every host seen in the last second (thousands at 100k hosts): written in slices (write-slices.ts);
  // two flushes may interleave, harmlessly, since a time only ever moves forward
  const touchMany = slicedWriter(sqlite, (s: { id: number; at: number }) => touchStmt.run(s.at, s.id));
  const byNodeKey = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.node_key_hash = ?`).raw(true);
  const byId = sqlite.prepare<[number], RawHost>(`${HOST_SELECT} WHERE h.id = ?`).raw(true);
  const bySerial = sqlite.prepare<[string], RawHost>(`${HOST_SELECT} WHERE h.serial = ? ORDER BY h.id`).raw(true);
  const listAll = sqlite.prepare<[], RawHost>(`${HOST_SELECT} ORDER BY h.id`).raw(true);
  const enroll = createEnroll(sqlite, byId);

  return {
    ...identityOps(sqlite, byId),
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
      await touchMany(seen);
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
