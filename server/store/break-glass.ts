/** SQLite implementation of the break-glass grant port. Rows are mapped to domain grants here. */
import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import type { BreakGlassRepo } from '../domain/ports.js';
import type { BreakGlassGrant, GrantStatus } from '../domain/types.js';
import { translated } from './errors.js';
import type { Db } from './open.js';
import { breakGlassGrants } from './schema.js';

type Row = typeof breakGlassGrants.$inferSelect;
type Insert = typeof breakGlassGrants.$inferInsert;

const STATUSES: readonly GrantStatus[] = ['pending', 'active', 'denied', 'revoked', 'expired'];
const toStatus = (s: string): GrantStatus =>
  (STATUSES as readonly string[]).includes(s) ? (s as GrantStatus) : 'expired';

/** The row's columns are the grant's fields (schema.ts names them alike); only the status is narrowed. */
const toGrant = (r: Row): BreakGlassGrant => ({ ...r, status: toStatus(r.status) });

const toRow = (g: BreakGlassGrant): Insert => ({ ...g });

/** Only the mutable columns of a grant may be patched; identity fields (id, serial, user, …) never change. */
function toPatch(p: Partial<BreakGlassGrant>): Partial<Insert> {
  const out: Partial<Insert> = {};
  if (p.status !== undefined) out.status = p.status;
  if (p.activatedAt !== undefined) out.activatedAt = p.activatedAt;
  if (p.expiresAt !== undefined) out.expiresAt = p.expiresAt;
  if (p.approvedBy !== undefined) out.approvedBy = p.approvedBy;
  if (p.revokedBy !== undefined) out.revokedBy = p.revokedBy;
  if (p.reviewedBy !== undefined) out.reviewedBy = p.reviewedBy;
  if (p.reviewedAt !== undefined) out.reviewedAt = p.reviewedAt;
  if (p.durationMs !== undefined) out.durationMs = p.durationMs;
  if (p.decisionComment !== undefined) out.decisionComment = p.decisionComment;
  return out;
}

export function createBreakGlassRepo(db: Db): BreakGlassRepo {
  return {
    async insert(g) {
      translated(() => db.insert(breakGlassGrants).values(toRow(g)).run(), {
        unique: ['conflict', `break-glass grant ${g.id} already exists`],
      });
    },
    async get(id) {
      const row = db.select().from(breakGlassGrants).where(eq(breakGlassGrants.id, id)).get();
      return row ? toGrant(row) : undefined;
    },
    async update(id, patch) {
      return db.transaction((tx) => {
        const set = toPatch(patch);
        if (Object.keys(set).length > 0) tx.update(breakGlassGrants).set(set).where(eq(breakGlassGrants.id, id)).run();
        const row = tx.select().from(breakGlassGrants).where(eq(breakGlassGrants.id, id)).get();
        return row ? toGrant(row) : undefined;
      });
    },
    async list(filter = {}) {
      const where: SQL[] = [];
      if (filter.status !== undefined) where.push(eq(breakGlassGrants.status, filter.status));
      if (filter.user !== undefined) where.push(eq(breakGlassGrants.user, filter.user));
      if (filter.serial !== undefined) where.push(eq(breakGlassGrants.serial, filter.serial));
      if (filter.since !== undefined) where.push(gte(breakGlassGrants.createdAt, filter.since));
      return db
        .select()
        .from(breakGlassGrants)
        .where(where.length > 0 ? and(...where) : undefined)
        .orderBy(desc(breakGlassGrants.createdAt), desc(breakGlassGrants.id))
        .all()
        .map(toGrant);
    },
  };
}
