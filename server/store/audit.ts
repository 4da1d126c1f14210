/**
 * SQLite implementation of the audit port: append-only, hash-chained. `append` reads the head of the
 * chain and inserts the new entries inside one synchronous transaction, so concurrent appends cannot
 * fork the chain. There is deliberately no update or delete.
 *
 * The hash definition lives in server/domain/audit-hash.ts, shared with the verifier: keyed (HMAC) when
 * the store is given the audit key, legacy SHA-256 otherwise.
 */
import { and, asc, eq, gt, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { AuditRepo } from '../domain/ports.js';
import type { AuditEntry } from '../domain/types.js';
import { GENESIS_HASH, canonicalJson, hashAuditEntry } from '../domain/audit-hash.js';
import type { Db } from './open.js';
import { auditLog } from './schema.js';

const MAX_LIMIT = 10_000;

type Row = typeof auditLog.$inferSelect;

function toEntry(row: Row): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    type: row.type,
    actor: row.actor,
    serial: row.serial,
    data: JSON.parse(row.data) as unknown,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

export function createAuditRepo(db: Db, key?: Buffer): AuditRepo {
  // prepared once: every enrollment and decision change is appended (batched) on the busy path
  const sqlite = db.$client;
  const headStmt = sqlite.prepare<[], { seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const insertStmt = sqlite.prepare(
    `INSERT INTO audit_log (seq, at, type, actor, serial, data, prev_hash, hash)
    VALUES (@seq, @at, @type, @actor, @serial, @data, @prevHash, @hash)`,
  );
  const appendTx = sqlite.transaction((entries: ReadonlyArray<Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>>) => {
    const head = headStmt.get();
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const out: AuditEntry[] = [];
    for (const e of entries) {
      seq += 1;
      const dataJson = canonicalJson(e.data);
      // Hash over the stored (round-tripped) data, so verification of a read-back entry matches.
      const data = JSON.parse(dataJson) as unknown;
      const serial = e.serial ?? null;
      const hash = hashAuditEntry({ seq, at: e.at, type: e.type, actor: e.actor, serial, data, prevHash }, key);
      insertStmt.run({ seq, at: e.at, type: e.type, actor: e.actor, serial, data: dataJson, prevHash, hash });
      out.push({ seq, at: e.at, type: e.type, actor: e.actor, serial, data, prevHash, hash });
      prevHash = hash;
    }
    return out;
  });

  return {
    async append(entries) {
      if (entries.length === 0) return [];
      return appendTx.immediate(entries);
    },
    async list(filter = {}) {
      const where: SQL[] = [];
      if (filter.type !== undefined) {
        if (filter.type.endsWith('*')) {
          // `break_glass.*`: every type with that prefix (LIKE with the wildcards in the prefix escaped).
          const prefix = filter.type.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
          where.push(sql`${auditLog.type} LIKE ${`${prefix}%`} ESCAPE '\\'`);
        } else where.push(eq(auditLog.type, filter.type));
      }
      if (filter.actor !== undefined) where.push(eq(auditLog.actor, filter.actor));
      if (filter.serial !== undefined) where.push(eq(auditLog.serial, filter.serial));
      if (filter.since !== undefined) where.push(gte(auditLog.at, filter.since));
      if (filter.until !== undefined) where.push(lte(auditLog.at, filter.until));
      if (filter.afterSeq !== undefined) where.push(gt(auditLog.seq, filter.afterSeq));
      const limit = Math.min(Math.max(filter.limit ?? 1000, 1), MAX_LIMIT);
      const rows = db
        .select()
        .from(auditLog)
        .where(where.length > 0 ? and(...where) : undefined)
        .orderBy(asc(auditLog.seq))
        .limit(limit)
        .all();
      return rows.map(toEntry);
    },
    async all() {
      return db.select().from(auditLog).orderBy(asc(auditLog.seq)).all().map(toEntry);
    },
  };
}
