/**
 * The admin API's credential routes: enroll secrets (list; create, shown once; revoke) and API tokens
 * (list, admin only; create, shown once; revoke). Creating and revoking go through control/credentials,
 * which stores only hashes and audits each change.
 */
import type Router from '@koa/router';
import { isoOf } from '../shared/clock.js';
import { invalid } from '../shared/errors.js';
import { actorOf } from './request.js';
import type { AdminDeps, Guards } from './routes.js';
import { parseBody, secretCreateBody, tokenCreateBody } from './schemas.js';

export function credentialRoutes(
  r: Router,
  deps: Pick<AdminDeps, 'secrets' | 'tokens' | 'credentials'>,
  { read, admin }: Guards,
): void {
  r.get('/enroll-secrets', read, async (ctx) => {
    ctx.body = {
      secrets: (await deps.secrets.list()).map((s) => ({
        name: s.name,
        created_at: isoOf(s.createdAt),
        expires_at: s.expiresAt === null ? null : isoOf(s.expiresAt),
        revoked_at: s.revokedAt === null ? null : isoOf(s.revokedAt),
      })),
    };
  });
  r.post('/enroll-secrets', admin, async (ctx) => {
    const b = parseBody(secretCreateBody, ctx.request.body, 'enroll secret');
    const input = { name: b.name, ...(b.expires_in ? { expiresIn: b.expires_in } : {}) };
    const { secret, record } = await deps.credentials.createEnrollSecret(input, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { name: record.name, secret, expires_at: record.expiresAt === null ? null : isoOf(record.expiresAt) };
  });
  r.delete('/enroll-secrets/:name', admin, async (ctx) => {
    const flag = ctx.query.revoke_hosts;
    if (flag !== undefined && flag !== '1' && flag !== 'true' && flag !== '0' && flag !== 'false') {
      throw invalid('revoke_hosts must be 1 or 0');
    }
    const revokeHosts = flag === '1' || flag === 'true';
    const n = await deps.credentials.revokeEnrollSecret(ctx.params.name ?? '', actorOf(ctx), { revokeHosts });
    if (!revokeHosts) ctx.status = 204;
    else ctx.body = { name: ctx.params.name, hosts_unenrolled: n };
  });

  r.get('/tokens', admin, async (ctx) => {
    ctx.body = {
      tokens: (await deps.tokens.list()).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        created_at: isoOf(t.createdAt),
        revoked_at: t.revokedAt === null ? null : isoOf(t.revokedAt),
        last_used_at: t.lastUsedAt === null ? null : isoOf(t.lastUsedAt),
      })),
    };
  });
  r.post('/tokens', admin, async (ctx) => {
    const b = parseBody(tokenCreateBody, ctx.request.body, 'token');
    const { token, record } = await deps.credentials.createToken({ name: b.name, role: b.role }, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { id: record.id, name: record.name, role: record.role, token };
  });
  r.delete('/tokens/:id', admin, async (ctx) => {
    await deps.credentials.revokeToken(ctx.params.id ?? '', actorOf(ctx));
    ctx.status = 204;
  });
}
