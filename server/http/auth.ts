/**
 * Bearer-token authentication for every non-osquery API. Tokens are looked up by SHA-256 hash
 * (constant-time by construction: the lookup key is a digest, never the secret) and cached briefly so
 * the gateway hot path does not hit the store; a revoked token stops working within `cacheTtlMs`.
 */
import type { Context, Middleware, Next } from 'koa';
import type { TokenRepo } from '../domain/ports.js';
import type { ApiToken, Role } from '../domain/types.js';
import { forbidden, unauthenticated } from '../shared/errors.js';
import { sha256Hex } from '../shared/crypto.js';
import { TtlCache } from '../shared/ttl-cache.js';
import type { Clock } from '../shared/clock.js';

export interface Actor {
  name: string;
  role: Role;
  tokenId: number;
}

export type RequireRole = (...roles: Role[]) => Middleware;

export interface TokenAuth {
  requireRole: RequireRole;
  /** Authenticates and checks the role, or throws AppError (unauthenticated / forbidden). */
  authorize(header: string | undefined, roles: readonly Role[]): Promise<Actor>;
  /** Authenticates a bearer header value; undefined when absent or invalid. */
  authenticate(header: string | undefined): Promise<Actor | undefined>;
  invalidate(): void;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export function createTokenAuth(deps: { tokens: Pick<TokenRepo, 'findActiveByHash' | 'markUsed'>; clock: Clock; cacheTtlMs?: number }): TokenAuth {
  const cache = new TtlCache<string, ApiToken | null>(deps.cacheTtlMs ?? 5_000, () => deps.clock.now(), 10_000);
  const lastMarked = new Map<number, number>();

  async function authenticate(header: string | undefined): Promise<Actor | undefined> {
    const m = header ? BEARER.exec(header) : null;
    if (!m?.[1]) return undefined;
    const hash = sha256Hex(m[1]);
    let tok = cache.get(hash);
    if (tok === undefined) {
      tok = (await deps.tokens.findActiveByHash(hash)) ?? null;
      cache.set(hash, tok);
    }
    if (!tok) return undefined;
    const now = deps.clock.now();
    if (now - (lastMarked.get(tok.id) ?? 0) > 60_000) {
      lastMarked.set(tok.id, now);
      await deps.tokens.markUsed(tok.id, now);
    }
    return { name: tok.name, role: tok.role, tokenId: tok.id };
  }

  async function authorize(header: string | undefined, roles: readonly Role[]): Promise<Actor> {
    const actor = await authenticate(header);
    if (!actor) throw unauthenticated('missing or invalid bearer token: send "Authorization: Bearer <token>" (create one with `trustgate token create`)');
    if (actor.role !== 'admin' && !roles.includes(actor.role)) throw forbidden(`this endpoint needs role ${roles.join(' or ')}; the token "${actor.name}" has role ${actor.role}`);
    return actor;
  }

  const requireRole: RequireRole = (...roles) =>
    async function requireRoleMiddleware(ctx: Context, next: Next) {
      ctx.state.actor = await authorize(ctx.get('authorization') || undefined, roles);
      await next();
    };

  return { requireRole, authorize, authenticate, invalidate: () => cache.clear() };
}
