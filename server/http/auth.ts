/**
 * Bearer-token authentication for every non-osquery API. Tokens are looked up by SHA-256 hash
 * (constant-time by construction: the lookup key is a digest, never the secret) and cached briefly so
 * the gateway hot path does not hit the store; a revoked token stops working within `cacheTtlMs`.
 * Failed authentications go through the failure limit (shared/auth-failures.ts) when the request is given:
 * past its budget a wrong token answers 429 instead of 401; a valid one is never limited.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware, Next } from 'koa';
import type { TokenRepo } from '../domain/ports.js';
import type { ApiToken, Role } from '../domain/types.js';
import { forbidden, unauthenticated } from '../shared/errors.js';
import { sameText, sha256Hex } from '../shared/crypto.js';
import { TtlCache } from '../shared/ttl-cache.js';
import type { Clock } from '../shared/clock.js';
import type { AuthFailures } from '../shared/auth-failures.js';
import type { ClientAddress } from '../shared/client-address.js';

export interface Actor {
  name: string;
  role: Role;
  tokenId: number;
}

export type RequireRole = (...roles: Role[]) => Middleware;

export interface TokenAuth {
  requireRole: RequireRole;
  /**
   * Authenticates and checks the role, or throws AppError (unauthenticated / forbidden, or rate_limited
   * when `from`, the request, is given and its failures are over budget).
   */
  authorize(header: string | undefined, roles: readonly Role[], from?: IncomingMessage): Promise<Actor>;
  /**
   * authorize() answered from the cache alone (no store access, no await): the actor, or undefined when
   * the token is not cached; throws like authorize for a cached invalid token or a wrong role.
   */
  authorizeCached(header: string | undefined, roles: readonly Role[], from?: IncomingMessage): Actor | undefined;
  /** Authenticates a bearer header value; undefined when absent or invalid. */
  authenticate(header: string | undefined): Promise<Actor | undefined>;
  invalidate(): void;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The SHA-256 hex of the bearer token in an Authorization header; undefined when it is not one. */
function digestOf(header: string): string | undefined {
  const m = BEARER.exec(header);
  return m?.[1] ? sha256Hex(m[1]) : undefined;
}

/**
 * Per connection, the last Authorization header and its digest: a gateway sends the same header on every
 * request of a kept-alive connection, so the parse and the SHA-256 run once per connection, not once per
 * decision. A header is compared with that same connection's previous one only, in constant time. The
 * digest is only the cache key: the token's validity (expiry, revocation) is looked up as before.
 */
function connectionDigests(): (header: string, conn: object | undefined) => string | undefined {
  const last = new WeakMap<object, { header: string; hash: string | undefined }>();
  return (header, conn) => {
    if (!conn) return digestOf(header);
    const seen = last.get(conn);
    if (seen !== undefined && sameText(seen.header, header)) return seen.hash;
    const hash = digestOf(header);
    if (seen === undefined) last.set(conn, { header, hash });
    else {
      seen.header = header;
      seen.hash = hash;
    }
    return hash;
  };
}

export function createTokenAuth(deps: {
  tokens: Pick<TokenRepo, 'findActiveByHash' | 'markUsed'>;
  clock: Clock;
  cacheTtlMs?: number;
  /** The failed-authentication limit and the client address it is keyed by (both, or no limit). */
  failures?: { limit: AuthFailures; addressOf: ClientAddress };
}): TokenAuth {
  const cache = new TtlCache<string, ApiToken | null>(deps.cacheTtlMs ?? 5_000, () => deps.clock.now(), 10_000);
  const lastMarked = new Map<number, number>();
  const digests = connectionDigests();

  const hashOf = (header: string | undefined, from?: IncomingMessage): string | undefined =>
    header ? digests(header, from?.socket) : undefined;

  function actorOf(tok: ApiToken): Actor {
    const now = deps.clock.now();
    if (now - (lastMarked.get(tok.id) ?? 0) > 60_000) {
      lastMarked.set(tok.id, now);
      void deps.tokens.markUsed(tok.id, now).catch(() => undefined);
    }
    return { name: tok.name, role: tok.role, tokenId: tok.id };
  }

  async function authenticate(header: string | undefined): Promise<Actor | undefined> {
    const hash = hashOf(header);
    if (!hash) return undefined;
    let tok = cache.get(hash);
    if (tok === undefined) {
      tok = (await deps.tokens.findActiveByHash(hash)) ?? null;
      cache.set(hash, tok);
    }
    return tok ? actorOf(tok) : undefined;
  }

  function check(actor: Actor | undefined, roles: readonly Role[]): Actor {
    if (!actor)
      throw unauthenticated(
        'missing or invalid bearer token: send "Authorization: Bearer <token>" ' +
          '(create one with `trustgate token create`)',
      );
    if (actor.role !== 'admin' && !roles.includes(actor.role))
      throw forbidden(
        `this endpoint needs role ${roles.join(' or ')}; the token "${actor.name}" has role ${actor.role}`,
      );
    return actor;
  }

  /** What to throw for a failed check: the error itself, or rate_limited past the failure budget. */
  function refused(err: unknown, header: string | undefined, from: IncomingMessage | undefined): unknown {
    if (!from || !deps.failures) return err;
    const credential = header ? BEARER.exec(header)?.[1] : undefined;
    return deps.failures.limit.refuse(err, { address: deps.failures.addressOf(from), credential });
  }

  async function authorize(header: string | undefined, roles: readonly Role[], from?: IncomingMessage) {
    const actor = await authenticate(header);
    try {
      return check(actor, roles);
    } catch (err) {
      throw refused(err, header, from);
    }
  }

  function authorizeCached(header: string | undefined, roles: readonly Role[], from?: IncomingMessage) {
    try {
      const hash = hashOf(header, from);
      if (!hash) return check(undefined, roles);
      const tok = cache.get(hash);
      if (tok === undefined) return undefined;
      return check(tok ? actorOf(tok) : undefined, roles);
    } catch (err) {
      throw refused(err, header, from);
    }
  }

  const requireRole: RequireRole = (...roles) =>
    async function requireRoleMiddleware(ctx: Context, next: Next) {
      ctx.state.actor = await authorize(ctx.get('authorization') || undefined, roles, ctx.req);
      await next();
    };

  return { requireRole, authorize, authorizeCached, authenticate, invalidate: () => cache.clear() };
}
