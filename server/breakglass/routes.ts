/**
 * The break-glass API (SPEC §6): POST /api/v1/break-glass (the person, with the signed page link as body
 * `token` or X-Trustgate-Link; or an admin token acting for a user), GET /api/v1/break-glass[/:id]
 * (admin or viewer; `?frequent=1` lists the users who break glass often) and the admin decisions
 * POST /api/v1/break-glass/:id/approve|deny|revoke|review. Failures are thrown AppErrors, rendered by
 * the app's error boundary.
 */
import Router, { type RouterMiddleware } from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';
import type { BreakGlassGrant, GrantStatus, Role } from '../domain/types.js';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { forbidden, invalid, notFound, unauthenticated } from '../shared/errors.js';
import { breakGlassBody, decisionBody, parse, type BreakGlassBody } from './schemas.js';
import type { BreakGlassService } from './service.js';

export type RequireRole = (...roles: Role[]) => Middleware;

/** Who a remediation-page link names. */
export interface LinkSubject {
  serial: string;
  user: string;
  resource: string;
}

export type LinkCheck = { ok: true; link: LinkSubject } | { ok: false; reason: 'invalid' | 'expired' };

export interface BreakGlassRouteDeps {
  breakGlass: BreakGlassService;
  /** Verifies a signed remediation-page link (people/link.ts signs them; main.ts binds the key and clock). */
  verifyLink(token: unknown): LinkCheck;
}

/** What a request carries once authenticated: an admin's token (requireRole) or the person's link. */
interface BreakGlassState {
  actor?: { name: string; role: Role };
  link?: LinkSubject;
}

type Handler = RouterMiddleware<BreakGlassState>;

export function grantJson(g: BreakGlassGrant, uses?: number): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: g.id,
    status: g.status,
    serial: g.serial,
    user: g.user,
    resource: g.resource,
    tier: g.tier,
    reason: g.reason,
    duration: formatDuration(g.durationMs),
    duration_ms: g.durationMs,
    created_at: iso(g.createdAt),
    activated_at: iso(g.activatedAt),
    expires_at: iso(g.expiresAt),
    requested_by: g.requestedBy,
    approved_by: g.approvedBy,
    revoked_by: g.revokedBy,
    reviewed_by: g.reviewedBy,
    reviewed_at: iso(g.reviewedAt),
    decision_comment: g.decisionComment,
    ...(uses !== undefined ? { uses } : {}),
  };
}

const GRANT_STATUSES: readonly GrantStatus[] = ['pending', 'active', 'denied', 'revoked', 'expired'];
const isGrantStatus = (s: string): s is GrantStatus => (GRANT_STATUSES as readonly string[]).includes(s);
const LINK_HEADER = 'x-trustgate-link';

const formBody = bodyParser({ enableTypes: ['form', 'json'], formLimit: '32kb', jsonLimit: '32kb' });

const actorName = (state: BreakGlassState): string => {
  if (!state.actor) throw unauthenticated('authentication required');
  return state.actor.name;
};

type Query = Record<string, string | string[] | undefined>;

/** A non-empty query parameter, or undefined. */
const one = (q: Query, k: string): string | undefined => {
  const v = q[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** Who the request is for and who asks: the signed link's person, or the admin acting for the named user. */
function subjectOf(body: BreakGlassBody, state: BreakGlassState): { subject: LinkSubject; requestedBy: string } {
  const link = state.link;
  if (link) {
    for (const k of ['serial', 'user', 'resource'] as const) {
      if (body[k] !== undefined && body[k] !== link[k]) throw forbidden(`${k} does not match the signed link`);
    }
    return { subject: { serial: link.serial, user: link.user, resource: link.resource }, requestedBy: link.user };
  }
  if (body.serial === undefined || body.user === undefined || body.resource === undefined) {
    throw invalid('serial, user and resource are required when an admin requests emergency access for a user');
  }
  return {
    subject: { serial: body.serial, user: body.user, resource: body.resource },
    requestedBy: actorName(state),
  };
}

/** GET /api/v1/break-glass?frequent=1[&window=7d][&min=2]: the users who break glass often. */
async function frequentJson(svc: BreakGlassService, q: Query): Promise<{ frequent: Array<Record<string, unknown>> }> {
  const window = one(q, 'window');
  const min = one(q, 'min');
  if (min !== undefined && !/^[1-9]\d{0,5}$/.test(min)) throw invalid('min must be a positive integer');
  const list = await svc.frequent({
    ...(window !== undefined ? { windowMs: parseDuration(window) } : {}),
    ...(min !== undefined ? { min: Number(min) } : {}),
  });
  return {
    frequent: list.map((f) => ({
      user: f.user,
      count: f.count,
      limit: f.limit,
      window: formatDuration(f.windowMs),
      last_at: new Date(f.lastAt).toISOString(),
      last_reasons: f.lastReasons,
      serials: f.serials,
      at_limit: f.count >= f.limit,
    })),
  };
}

/** The grant-list filter of GET /api/v1/break-glass (status, user, serial, since as ISO time or epoch ms). */
function listFilter(q: Query): Parameters<BreakGlassService['list']>[0] {
  const status = one(q, 'status');
  if (status !== undefined && !isGrantStatus(status)) {
    throw invalid(`status must be one of ${GRANT_STATUSES.join(', ')}`);
  }
  const since = one(q, 'since');
  let sinceMs: number | undefined;
  if (since !== undefined) {
    sinceMs = /^\d{1,15}$/.test(since) ? Number(since) : Date.parse(since);
    if (Number.isNaN(sinceMs)) throw invalid('since must be an ISO-8601 time or epoch milliseconds');
  }
  const user = one(q, 'user');
  const serial = one(q, 'serial');
  return {
    ...(status !== undefined ? { status } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(serial !== undefined ? { serial } : {}),
    ...(sinceMs !== undefined ? { since: sinceMs } : {}),
  };
}

type Decide = (id: string, actor: string, comment: string | undefined) => Promise<BreakGlassGrant>;

/** An admin decision on a grant: the optional comment (form or JSON body), the actor, the grant after. */
const decision =
  (fn: Decide): Handler =>
  async (ctx) => {
    const raw: unknown = ctx.request.body;
    const body = parse(decisionBody, raw === undefined || raw === null || raw === '' ? {} : raw);
    const comment = body.comment?.trim() || undefined;
    ctx.body = grantJson(await fn(ctx.params.id ?? '', actorName(ctx.state), comment));
  };

export function breakGlassRouter(deps: BreakGlassRouteDeps, requireRole: RequireRole): Router {
  const r = new Router<BreakGlassState>();
  const admin = requireRole('admin');
  const reader = requireRole('admin', 'viewer');
  const svc = deps.breakGlass;

  /** A signed page link (body `token` or X-Trustgate-Link) names the person; without one, an admin token. */
  const linkOrAdmin: Handler = async (ctx, next) => {
    const body: unknown = ctx.request.body;
    const fromBody = typeof body === 'object' && body !== null && 'token' in body ? body.token : undefined;
    const token: unknown = ctx.get(LINK_HEADER) || fromBody;
    if (token === undefined || token === '') return admin(ctx, next);
    const res = deps.verifyLink(token);
    if (!res.ok) {
      throw unauthenticated(
        res.reason === 'expired' ? 'link expired: open the resource again to get a new one' : 'invalid link token',
      );
    }
    ctx.state.link = res.link;
    return next();
  };

  r.post('/api/v1/break-glass', formBody, linkOrAdmin, async (ctx) => {
    const body = parse(breakGlassBody, ctx.request.body);
    const { subject, requestedBy } = subjectOf(body, ctx.state);
    const { grant, created } = await svc.request({
      ...subject,
      reason: body.reason,
      durationMs: parseDuration(body.duration),
      requestedBy,
      ...(body.idempotency_key ? { idempotencyKey: body.idempotency_key } : {}),
    });
    ctx.status = created ? 201 : 200;
    ctx.body = grantJson(grant);
  });

  r.get('/api/v1/break-glass', reader, async (ctx) => {
    const frequent = one(ctx.query, 'frequent');
    if (frequent === '1' || frequent === 'true') {
      ctx.body = await frequentJson(svc, ctx.query);
      return;
    }
    const grants = await svc.list(listFilter(ctx.query));
    ctx.body = { grants: grants.map((g) => grantJson(g, svc.uses(g.id))) };
  });

  r.get('/api/v1/break-glass/:id', reader, async (ctx) => {
    const g = await svc.get(ctx.params.id ?? '');
    if (!g) throw notFound(`break-glass grant ${ctx.params.id ?? ''}`);
    ctx.body = grantJson(g, svc.uses(g.id));
  });

  const declineWithComment: Decide = (id, a, c) => {
    if (!c) throw invalid('comment is required when declining: the person sees it');
    return svc.deny(id, a, c);
  };
  r.post(
    '/api/v1/break-glass/:id/approve',
    admin,
    formBody,
    decision((id, a, c) => svc.approve(id, a, c)),
  );
  r.post('/api/v1/break-glass/:id/deny', admin, formBody, decision(declineWithComment));
  r.post(
    '/api/v1/break-glass/:id/revoke',
    admin,
    formBody,
    decision((id, a, c) => svc.revoke(id, a, c)),
  );
  r.post(
    '/api/v1/break-glass/:id/review',
    admin,
    formBody,
    decision((id, a, c) => svc.review(id, a, c)),
  );
  return r;
}
