/**
 * HTTP for the people's side:
 * - peopleRouter: the remediation page (GET /device?t=…), its live channel (/device/status JSON,
 *   /device/events SSE, /device/fragment), and the page's form posts (/device/recheck, /device/break-glass,
 *   /device/break-glass/cancel). HTML routes render their own error pages and never leak data.
 * - breakGlassRouter: POST/GET /api/v1/break-glass and /:id/approve|deny|revoke|review.
 */
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { Context, Middleware } from 'koa';
import type { BreakGlassGrant, GrantStatus, Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { constantTimeEqual, randomId } from '../shared/crypto.js';
import { formatDuration, parseDuration } from '../shared/duration.js';
import { AppError, HTTP_STATUS, errorMessage, forbidden, invalid, isAppError, unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { PAGE_CSS, PAGE_JS } from './assets.js';
import type { BreakGlassService } from '../breakglass/service.js';
import { csrfTokenFor, verifyDeviceLink, type DeviceLink } from './link.js';
import { durationChoices, renderContent, renderDevicePage, renderErrorPage, renderExpiredPage, renderInvalidPage, statusPayload, type FormState, type Help, type Notice, type PageOptions } from './render.js';
import { breakGlassBody, breakGlassForm, cancelForm, check, decisionBody, linkForm, parse } from './schemas.js';
import { createPeopleService, type PeopleDeps, type PeopleService } from './service.js';

export type RequireRole = (...roles: Role[]) => Middleware;

const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function pageHeaders(ctx: Context): void {
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', CSP);
}

const wantsJson = (ctx: Context): boolean => {
  const accept = ctx.get('accept');
  return accept.includes('application/json') && !accept.includes('text/html');
};

const bodyOf = (ctx: Context): unknown => (ctx.request as { body?: unknown }).body;

const formBody = bodyParser({ enableTypes: ['form', 'json'], formLimit: '32kb', jsonLimit: '32kb' });

function jsonError(ctx: Context, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  ctx.status = status;
  ctx.body = { error: { code, message, ...extra } };
}


export function peopleRouter(deps: PeopleDeps, svc: PeopleService = createPeopleService(deps)): Router {
  const r = new Router();
  const help: Help = deps.help ?? {};
  const log = deps.log;
  /** Open live channels per link and in total: a leaked link cannot pin the server's resources. */
  const liveByLink = new Map<string, number>();
  let liveTotal = 0;
  const LIVE_PER_LINK = 4;
  const LIVE_TOTAL = deps.maxLiveChannels ?? 2000;

  /** Resolves the link token; on failure renders (or answers JSON) and returns undefined. */
  function linkOr(ctx: Context, token: unknown, json: boolean, typed?: string): DeviceLink | undefined {
    const now = deps.clock.now();
    if (token === undefined || token === '' || Array.isArray(token)) {
      if (json) jsonError(ctx, 400, 'invalid', "This link doesn't work.");
      else { ctx.status = 400; ctx.type = 'html'; ctx.body = renderInvalidPage(help, now); }
      return undefined;
    }
    const res = verifyDeviceLink(token, deps.hmacKey, now);
    if (res.ok && !deps.policy().resources[res.link.resource]) {
      // The resource left the policy since the link was made: nothing to show.
      if (json) jsonError(ctx, 404, 'not_found', "This link doesn't work any more.");
      else { ctx.status = 404; ctx.type = 'html'; ctx.body = renderInvalidPage(help, now); }
      return undefined;
    }
    if (res.ok) return res.link;
    if (res.reason === 'expired') {
      if (json) jsonError(ctx, 410, 'expired', 'This link has expired. Open the app again to get a new one.');
      else {
        const policy = deps.policy();
        const resource = policy.resources[res.link.resource];
        const host = resource?.hosts[0];
        ctx.status = 410;
        ctx.type = 'html';
        ctx.body = renderExpiredPage(res.link, resource?.title ?? res.link.resource, host ? `https://${host}/` : null, help, now, typed);
      }
      return undefined;
    }
    log.warn({ event: 'people.link_invalid', ip: ctx.ip }, 'remediation link with a bad signature');
    if (json) jsonError(ctx, 403, 'forbidden', "This link doesn't work.");
    else { ctx.status = 403; ctx.type = 'html'; ctx.body = renderInvalidPage(help, now); }
    return undefined;
  }

  function csrfOk(token: string, csrf: string): boolean {
    return constantTimeEqual(csrf, csrfTokenFor(token, deps.hmacKey));
  }

  async function renderPage(ctx: Context, link: DeviceLink, token: string, extra: { notice?: Notice; form?: FormState; status?: number } = {}): Promise<void> {
    const now = deps.clock.now();
    const view = await svc.view(link);
    const opts: PageOptions = {
      token, csrf: csrfTokenFor(token, deps.hmacKey), help, formKey: randomId(12),
      ...(extra.notice ? { notice: extra.notice } : {}), ...(extra.form ? { form: extra.form } : {}),
    };
    ctx.status = extra.status ?? 200;
    ctx.type = 'html';
    ctx.body = renderDevicePage(view, opts, now).html;
  }

  // Every /device route: security headers, and our own error page (never a stack or data).
  r.use('/device', async (ctx, next) => {
    pageHeaders(ctx);
    try {
      await next();
    } catch (e) {
      const status = isAppError(e) ? HTTP_STATUS[e.code] : 500;
      if (status >= 500) log.error({ event: 'people.error', err: errorMessage(e), path: ctx.path }, 'remediation page failed');
      ctx.status = status;
      if (wantsJson(ctx) || ['/device/status', '/device/fragment', '/device/events'].includes(ctx.path)) {
        ctx.body = { error: { code: isAppError(e) ? e.code : 'internal', message: status < 500 && e instanceof Error ? e.message : 'internal error' } };
      } else {
        ctx.type = 'html';
        ctx.body = renderErrorPage(help, deps.clock.now());
      }
    }
  });

  r.get('/device/assets/page.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/css; charset=utf-8';
    ctx.body = PAGE_CSS;
  });
  r.get('/device/assets/page.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = PAGE_JS;
  });

  r.get('/device', async (ctx) => {
    const token = ctx.query.t;
    const link = linkOr(ctx, token, false);
    if (!link || typeof token !== 'string') return;
    deps.onPageView?.(link.serial);
    const m = typeof ctx.query.m === 'string' ? ctx.query.m : '';
    const wait = Number(ctx.query.w);
    const notice: Notice | undefined = m === 'recheck' ? { kind: 'recheck_started' }
      : m === 'wait' ? { kind: 'recheck_wait', waitS: Number.isFinite(wait) && wait > 0 ? Math.min(Math.round(wait), 900) : 15 }
        : m === 'recheck_failed' ? { kind: 'recheck_failed' }
          : m === 'cancelled' ? { kind: 'bg_cancelled' } : undefined;
    await renderPage(ctx, link, token, notice ? { notice } : {});
  });

  r.get('/device/status', async (ctx) => {
    const link = linkOr(ctx, ctx.query.t, true);
    if (!link) return;
    ctx.body = statusPayload(await svc.view(link), deps.clock.now());
  });

  r.get('/device/fragment', async (ctx) => {
    const token = ctx.query.t;
    const link = linkOr(ctx, token, true);
    if (!link || typeof token !== 'string') return;
    const now = deps.clock.now();
    const view = await svc.view(link);
    const parts = renderContent(view, { token, csrf: csrfTokenFor(token, deps.hmacKey), help, formKey: randomId(12) }, now);
    ctx.body = { version: view.version, checks: parts.checks.value, emergency: parts.emergency.value };
  });

  r.get('/device/events', async (ctx) => {
    const link = linkOr(ctx, ctx.query.t, true);
    if (!link) return;
    const key = `${link.serial}\u0000${link.user}\u0000${link.resource}`;
    const mine = liveByLink.get(key) ?? 0;
    if (mine >= LIVE_PER_LINK || liveTotal >= LIVE_TOTAL) {
      // The page falls back to polling /device/status.
      ctx.set('Retry-After', '30');
      jsonError(ctx, 503, 'unavailable', 'Too many live connections; use /device/status.');
      return;
    }
    liveByLink.set(key, mine + 1);
    liveTotal += 1;
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    ctx.set('X-Accel-Buffering', 'no');
    // Written to the raw response (not through koa's body pipeline), so a client going away is not an error.
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200);
    let lastVersion = '';
    let lastSent = 0;
    let busy = false;
    let closed = false;
    const send = (event: string, data: unknown) => {
      if (!closed && !res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const tick = async () => {
      if (busy || closed) return;
      busy = true;
      try {
        const now = deps.clock.now();
        if (now >= link.expiresAt) {
          send('expired', { link_expires_at: link.expiresAt });
          close();
          return;
        }
        const view = await svc.view(link);
        if (view.version !== lastVersion || Date.now() - lastSent > 20_000) {
          lastVersion = view.version;
          lastSent = Date.now();
          send('status', statusPayload(view, now));
        }
      } catch (e) {
        log.warn({ event: 'people.sse_failed', err: errorMessage(e) }, 'live status update failed');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => { void tick(); }, deps.livePollMs ?? 1000);
    const close = () => {
      if (closed) return;
      closed = true;
      liveTotal -= 1;
      const left = (liveByLink.get(key) ?? 1) - 1;
      if (left <= 0) liveByLink.delete(key);
      else liveByLink.set(key, left);
      clearInterval(timer);
      if (!res.writableEnded) res.end();
    };
    res.on('close', close);
    res.write('retry: 3000\n\n');
    await tick();
  });

  r.post('/device/recheck', formBody, async (ctx) => {
    const json = wantsJson(ctx);
    const body = bodyOf(ctx);
    if (!check(linkForm, body)) {
      if (json) jsonError(ctx, 400, 'invalid', 'This form is incomplete. Reload the page and try again.');
      else { ctx.status = 400; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now()); }
      return;
    }
    const link = linkOr(ctx, body.t, json);
    if (!link) return;
    if (!csrfOk(body.t, body.csrf)) {
      if (json) jsonError(ctx, 403, 'forbidden', 'This form has expired. Reload the page and try again.');
      else { ctx.status = 403; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now()); }
      return;
    }
    const back = `/device?t=${encodeURIComponent(body.t)}`;
    try {
      const out = await svc.recheck(link);
      if (json) {
        ctx.status = 202;
        ctx.body = { queued: out.queued, requested_at: out.requestedAt, available_at: out.availableAt };
      } else {
        ctx.status = 303;
        ctx.redirect(`${back}&m=recheck`);
      }
    } catch (e) {
      if (isAppError(e) && e.code === 'conflict') {
        const details = (e.details ?? {}) as { retry_after_s?: number };
        const wait = details.retry_after_s ?? 15;
        if (json) {
          ctx.set('Retry-After', String(wait));
          jsonError(ctx, 409, 'conflict', e.message, { retry_after_s: wait });
        } else {
          ctx.status = 303;
          ctx.redirect(`${back}&m=wait&w=${wait}`);
        }
        return;
      }
      log.warn({ event: 'people.recheck_failed', err: errorMessage(e) }, 'recheck from the page failed');
      if (json) jsonError(ctx, 503, 'unavailable', "We couldn't ask your laptop to check again just now. Try again in a moment.");
      else { ctx.status = 303; ctx.redirect(`${back}&m=recheck_failed`); }
    }
  });

  r.post('/device/break-glass', formBody, async (ctx) => {
    const body = bodyOf(ctx);
    if (!check(breakGlassForm, body)) {
      ctx.status = 400; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now());
      return;
    }
    const reason = (body.reason ?? '').trim();
    const link = linkOr(ctx, body.t, false, reason);
    if (!link) return;
    if (!csrfOk(body.t, body.csrf)) {
      ctx.status = 403; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now());
      return;
    }
    const duration = body.duration ?? '';
    const form: FormState = { reason: body.reason ?? '', duration, errors: [] };
    if (reason.length === 0) form.errors.push({ field: 'reason', message: 'Enter a reason: your IT team needs to know why.' });
    else if (reason.length < 10) form.errors.push({ field: 'reason', message: 'Give a little more detail: at least 10 characters.' });
    const max = deps.policy().breakGlass.maxDurationMs;
    const choice = durationChoices(max).find((c) => c.value === duration);
    if (!choice) form.errors.push({ field: 'duration', message: 'Choose how long you need access.' });
    if (form.errors.length > 0 || !choice) {
      await renderPage(ctx, link, body.t, { form, status: 400 });
      return;
    }
    try {
      await deps.breakGlass.request({
        serial: link.serial, user: link.user, resource: link.resource, reason, durationMs: choice.ms, requestedBy: link.user,
        ...(body.idempotency_key ? { idempotencyKey: body.idempotency_key } : {}),
      });
      ctx.status = 303;
      ctx.redirect(`/device?t=${encodeURIComponent(body.t)}`);
    } catch (e) {
      if (!isAppError(e) || e.code === 'unavailable') throw e;
      const status = HTTP_STATUS[e.code];
      if (e.code === 'invalid') form.errors.push({ field: 'reason', message: e.message });
      else form.refusal = e.code === 'not_found' ? "We don't recognise this laptop, so we can't give it emergency access." : e.message;
      await renderPage(ctx, link, body.t, { form, status });
    }
  });

  r.post('/device/break-glass/cancel', formBody, async (ctx) => {
    const body = bodyOf(ctx);
    if (!check(cancelForm, body)) {
      ctx.status = 400; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now());
      return;
    }
    const link = linkOr(ctx, body.t, false);
    if (!link) return;
    if (!csrfOk(body.t, body.csrf)) {
      ctx.status = 403; ctx.type = 'html'; ctx.body = renderInvalidPage(help, deps.clock.now());
      return;
    }
    const g = await deps.breakGlass.get(body.id);
    if (!g || g.serial !== link.serial || g.user !== link.user) {
      ctx.status = 303;
      ctx.redirect(`/device?t=${encodeURIComponent(body.t)}`);
      return;
    }
    try {
      await deps.breakGlass.cancel(body.id, link.user);
    } catch (e) {
      if (!isAppError(e) || e.code !== 'conflict') throw e;
    }
    ctx.status = 303;
    ctx.redirect(`/device?t=${encodeURIComponent(body.t)}&m=cancelled`);
  });

  return r;
}

// ───────────────────────────── /api/v1/break-glass ─────────────────────────────

export function grantJson(g: BreakGlassGrant, uses?: number): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: g.id, status: g.status, serial: g.serial, user: g.user, resource: g.resource, tier: g.tier, reason: g.reason,
    duration: formatDuration(g.durationMs), duration_ms: g.durationMs, created_at: iso(g.createdAt), activated_at: iso(g.activatedAt),
    expires_at: iso(g.expiresAt), requested_by: g.requestedBy, approved_by: g.approvedBy, revoked_by: g.revokedBy,
    reviewed_by: g.reviewedBy, reviewed_at: iso(g.reviewedAt), decision_comment: g.decisionComment, ...(uses !== undefined ? { uses } : {}),
  };
}

export interface BreakGlassRouteDeps {
  breakGlass: BreakGlassService;
  hmacKey: string | Buffer;
  clock: Clock;
  log: Logger;
}

interface Actor { name: string; role: Role }

function actorOf(ctx: Context): Actor {
  const a: unknown = (ctx.state as Record<string, unknown>).actor;
  if (typeof a === 'object' && a !== null && typeof (a as { name?: unknown }).name === 'string') return a as Actor;
  throw unauthenticated('authentication required');
}

const GRANT_STATUSES: readonly GrantStatus[] = ['pending', 'active', 'denied', 'revoked', 'expired'];

export function breakGlassRouter(deps: BreakGlassRouteDeps, requireRole: RequireRole): Router {
  const r = new Router();
  const admin = requireRole('admin');
  const reader = requireRole('admin', 'viewer');
  const linkHeader = 'x-trustgate-link';

  /** A signed page token (body `token` or header X-Trustgate-Link) or an admin bearer token. */
  const linkOrAdmin: Middleware = async (ctx, next) => {
    const body = bodyOf(ctx);
    const fromBody = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).token : undefined;
    const token = ctx.get(linkHeader) || fromBody;
    if (token === undefined || token === '') return admin(ctx, next);
    const res = verifyDeviceLink(token, deps.hmacKey, deps.clock.now());
    if (!res.ok) throw unauthenticated(res.reason === 'expired' ? 'link expired: open the resource again to get a new one' : 'invalid link token');
    (ctx.state as Record<string, unknown>).link = res.link;
    return next();
  };

  r.post('/api/v1/break-glass', formBody, linkOrAdmin, async (ctx) => {
    const body = parse(breakGlassBody, bodyOf(ctx));
    const link = (ctx.state as Record<string, unknown>).link as DeviceLink | undefined;
    let subject: { serial: string; user: string; resource: string };
    let requestedBy: string;
    if (link) {
      for (const k of ['serial', 'user', 'resource'] as const) {
        if (body[k] !== undefined && body[k] !== link[k]) throw forbidden(`${k} does not match the signed link`);
      }
      subject = { serial: link.serial, user: link.user, resource: link.resource };
      requestedBy = link.user;
    } else {
      if (body.serial === undefined || body.user === undefined || body.resource === undefined) {
        throw invalid('serial, user and resource are required when an admin requests emergency access for a user');
      }
      subject = { serial: body.serial, user: body.user, resource: body.resource };
      requestedBy = actorOf(ctx).name;
    }
    const { grant, created } = await deps.breakGlass.request({
      ...subject, reason: body.reason, durationMs: parseDuration(body.duration), requestedBy,
      ...(body.idempotency_key ? { idempotencyKey: body.idempotency_key } : {}),
    });
    ctx.status = created ? 201 : 200;
    ctx.body = grantJson(grant);
  });

  r.get('/api/v1/break-glass', reader, async (ctx) => {
    const q = ctx.query;
    const one = (k: string): string | undefined => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
    const frequent = one('frequent');
    if (frequent === '1' || frequent === 'true') {
      const window = one('window');
      const min = one('min');
      if (min !== undefined && !/^[1-9]\d{0,5}$/.test(min)) throw invalid('min must be a positive integer');
      const list = await deps.breakGlass.frequent({
        ...(window !== undefined ? { windowMs: parseDuration(window) } : {}),
        ...(min !== undefined ? { min: Number(min) } : {}),
      });
      ctx.body = {
        frequent: list.map((f) => ({
          user: f.user, count: f.count, limit: f.limit, window: formatDuration(f.windowMs), last_at: new Date(f.lastAt).toISOString(),
          last_reasons: f.lastReasons, serials: f.serials, at_limit: f.count >= f.limit,
        })),
      };
      return;
    }
    const status = one('status');
    if (status !== undefined && !(GRANT_STATUSES as readonly string[]).includes(status)) throw invalid(`status must be one of ${GRANT_STATUSES.join(', ')}`);
    const since = one('since');
    let sinceMs: number | undefined;
    if (since !== undefined) {
      sinceMs = /^\d{1,15}$/.test(since) ? Number(since) : Date.parse(since);
      if (Number.isNaN(sinceMs)) throw invalid('since must be an ISO-8601 time or epoch milliseconds');
    }
    const user = one('user');
    const serial = one('serial');
    const grants = await deps.breakGlass.list({
      ...(status !== undefined ? { status: status as GrantStatus } : {}),
      ...(user !== undefined ? { user } : {}), ...(serial !== undefined ? { serial } : {}),
      ...(sinceMs !== undefined ? { since: sinceMs } : {}),
    });
    ctx.body = { grants: grants.map((g) => grantJson(g, deps.breakGlass.uses(g.id))) };
  });

  r.get('/api/v1/break-glass/:id', reader, async (ctx) => {
    const g = await deps.breakGlass.get(ctx.params.id ?? '');
    if (!g) throw new AppError('not_found', `break-glass grant ${ctx.params.id ?? ''} not found`);
    ctx.body = grantJson(g, deps.breakGlass.uses(g.id));
  });

  const decision = (fn: (id: string, actor: string, comment: string | undefined) => Promise<BreakGlassGrant>): Middleware =>
    async (ctx) => {
      const raw = bodyOf(ctx);
      const body = parse(decisionBody, raw === undefined || raw === null || raw === '' ? {} : raw);
      const id = (ctx as unknown as { params: Record<string, string> }).params.id ?? '';
      const comment = body.comment?.trim() || undefined;
      ctx.body = grantJson(await fn(id, actorOf(ctx).name, comment));
    };

  r.post('/api/v1/break-glass/:id/approve', admin, formBody, decision((id, a, c) => deps.breakGlass.approve(id, a, c)));
  r.post('/api/v1/break-glass/:id/deny', admin, formBody, decision((id, a, c) => {
    if (!c) throw invalid('comment is required when declining: the person sees it');
    return deps.breakGlass.deny(id, a, c);
  }));
  r.post('/api/v1/break-glass/:id/revoke', admin, formBody, decision((id, a, c) => deps.breakGlass.revoke(id, a, c)));
  r.post('/api/v1/break-glass/:id/review', admin, formBody, decision((id, a, c) => deps.breakGlass.review(id, a, c)));
  return r;
}
