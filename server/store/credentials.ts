/** Enroll secrets and API tokens: stored only as SHA-256 hashes. */
import { and, eq, isNull, asc } from 'drizzle-orm';
import type { EnrollSecretRepo, TokenRepo } from '../domain/ports.js';
import type { ApiToken, EnrollSecret, Role } from '../domain/types.js';
import type { Db } from './open.js';
import { apiTokens, enrollSecrets } from './schema.js';
import { conflict } from '../shared/errors.js';
import { translated } from './errors.js';

type SecretRow = typeof enrollSecrets.$inferSelect;
type TokenRow = typeof apiTokens.$inferSelect;
const toSecret = ({ hash: _hash, ...r }: SecretRow): EnrollSecret => r;
const toToken = ({ hash: _hash, role, ...r }: TokenRow): ApiToken => ({ ...r, role: role as Role });

export function createEnrollSecretRepo(db: Db): EnrollSecretRepo {
  // prepared once: every enrollment reads the active secrets
  const activeStmt = db.$client.prepare<[number], SecretRow>(
    `SELECT id, name, hash, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt
    FROM enroll_secrets WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id`,
  );
  return {
    async create({ name, hash, expiresAt, at }) {
      const exists = db.select({ id: enrollSecrets.id }).from(enrollSecrets).where(eq(enrollSecrets.name, name)).get();
      if (exists) throw conflict(`an enroll secret named "${name}" already exists`);
      const row = translated(
        () => db.insert(enrollSecrets).values({ name, hash, expiresAt, createdAt: at }).returning().get(),
        { unique: ['conflict', `an enroll secret named "${name}" already exists`] },
      );
      return toSecret(row);
    },
    async list() {
      return db.select().from(enrollSecrets).orderBy(asc(enrollSecrets.id)).all().map(toSecret);
    },
    async active(now) {
      return activeStmt.all(now).map((r) => ({ ...toSecret(r), hash: r.hash }));
    },
    async revoke(name, at) {
      const r = db
        .update(enrollSecrets)
        .set({ revokedAt: at })
        .where(and(eq(enrollSecrets.name, name), isNull(enrollSecrets.revokedAt)))
        .run();
      return r.changes > 0;
    },
  };
}

export function createTokenRepo(db: Db): TokenRepo {
  return {
    async create({ name, role, hash, at }) {
      const row = translated(() => db.insert(apiTokens).values({ name, role, hash, createdAt: at }).returning().get(), {
        unique: ['conflict', 'a token with this hash already exists'],
      });
      return toToken(row);
    },
    async findActiveByHash(hash) {
      const r = db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.hash, hash), isNull(apiTokens.revokedAt)))
        .get();
      return r ? toToken(r) : undefined;
    },
    async list() {
      return db.select().from(apiTokens).orderBy(asc(apiTokens.id)).all().map(toToken);
    },
    async revoke(nameOrId, at) {
      const byId = /^\d+$/.test(nameOrId) ? eq(apiTokens.id, Number(nameOrId)) : eq(apiTokens.name, nameOrId);
      return (
        db
          .update(apiTokens)
          .set({ revokedAt: at })
          .where(and(byId, isNull(apiTokens.revokedAt)))
          .run().changes > 0
      );
    },
    async markUsed(id, at) {
      db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id)).run();
    },
  };
}
