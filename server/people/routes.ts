/**
 * HTTP of the remediation page (SPEC §6): GET /device?t=… and its live channel (/device/status JSON,
 * /device/events SSE in live.ts, /device/fragment), the page's form posts (/device/recheck,
 * /device/break-glass, /device/break-glass/cancel) and its hashed assets.
 *
 * One failure path: routes throw (a PageError for what the person should see, failure.ts); the app's
 * error boundary picks the status from the one table (http/errors.ts) and calls `failures` below, which
 * answers JSON to the page's script and JSON endpoints and our own HTML pages otherwise (never a stack,
 * never data a broken link should not show).
 */
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import type { Context } from 'koa';
import type { ValidateFunction } from 'ajv';
import { constantTimeEqual, randomId } from '../shared/crypto.js';
import { errorMessage, isAppError, unavailable, type AppError } from '../shared/errors.js';
import { ASSET_CACHE_CONTROL, PAGE_ASSETS } from './assets.js';
import { badLink, PageError } from './failure.js';
import { csrfTokenFor, verifyDeviceLink, type DeviceLink } from './link.js';
import { createLiveChannels } from './live.js';
import {
  durationChoices,
  renderContent,
  renderDevicePage,
  renderErrorPage,
  renderExpiredPage,
  renderInvalidPage,
  statusPayload,
  type FormState,
  type Help,
  type Notice,
} from './render.js';
import { breakGlassForm, cancelForm, check, linkForm, type LinkForm } from './schemas.js';
import { createPeopleService, type PeopleDeps, type PeopleService } from './service.js';

const CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function pageHeaders(ctx: Context): void {
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', CSP);
}

/** The endpoints that only ever answer JSON (the page's script and EventSource read them). */
const JSON_PATHS: ReadonlySet<string> = new Set(['/device/status', '/device/fragment', '/device/events']);

/** JSON for the JSON endpoints and for the page's script (it asks for JSON only); HTML for a browser. */
function wantsJson(ctx: Context): boolean {
  const accept = ctx.get('accept');
  return JSON_PATHS.has(ctx.path) || (accept.includes('application/json') && !accept.includes('text/html'));
}

const formBody = bodyParser({ enableTypes: ['form', 'json'], formLimit: '32kb', jsonLimit: '32kb' });

/** Post/Redirect/Get: a form post answers 303 See Other, back to the page. */
function seeOther(ctx: Context, url: string): void {
  ctx.status = 303;
  ctx.redirect(url);
}

const pageUrl = (token: string, query = ''): string => `/device?t=${encodeURIComponent(token)}${query}`;

/** The notice of a redirect back to the page (`m`, and `w` for the cool-down left). */
function noticeOf(query: Context['query']): { notice?: Notice } {
  const m = typeof query.m === 'string' ? query.m : '';
  const wait = Number(query.w);
  const waitS = Number.isFinite(wait) && wait > 0 ? Math.min(Math.round(wait), 900) : 15;
  const notice: Notice | undefined =
    m === 'recheck'
      ? { kind: 'recheck_started' }
      : m === 'wait'
        ? { kind: 'recheck_wait', waitS }
        : m === 'recheck_failed'
          ? { kind: 'recheck_failed' }
          : m === 'cancelled'
            ? { kind: 'bg_cancelled' }
            : undefined;
  return notice ? { notice } : {};
}

const UNKNOWN_LAPTOP = "We don't recognise this laptop, so we can't give it emergency access.";

/** A refusal of the recheck cool-down: the seconds to wait; undefined for any other failure. */
const coolDownOf = (e: unknown): number | undefined =>
  isAppError(e) && e.code === 'conflict' ? (e.retryAfterS ?? 15) : undefined;

export interface PeoplePages {
  router: Router;
  /** How the failures of these routes render (the app's error boundary calls it, http/errors.ts). */
  failures: {
    wantsJson(ctx: Context): boolean;
    html(failure: { err: unknown }, ctx: Context): Promise<string>;
  };
}

export function createPeoplePages(deps: PeopleDeps, svc: PeopleService = createPeopleService(deps)): PeoplePages {
  const r = new Router();
  const help: Help = deps.help ?? {};
  const live = createLiveChannels({
    clock: deps.clock,
    log: deps.log,
    view: (link) => svc.view(link),
    pollMs: deps.livePollMs ?? 1000,
    maxTotal: deps.maxLiveChannels ?? 2000,
  });

  /** The link a token names, or a PageError: missing (invalid), forged (forbidden), resource gone, expired. */
  function linkOf(ctx: Context, token: unknown, typed?: string): { link: DeviceLink; token: string } {
    if (typeof token !== 'string' || token === '') throw badLink('invalid', "This link doesn't work.");
    const res = verifyDeviceLink(token, deps.hmacKey, deps.clock.now());
    if (res.ok) {
      // The resource left the policy since the link was made: nothing to show.
      if (!deps.policy().resources[res.link.resource]) throw badLink('not_found', "This link doesn't work any more.");
      return { link: res.link, token };
    }
    if (res.reason === 'expired') {
      const problem = { kind: 'expired' as const, link: res.link, ...(typed ? { typed } : {}) };
      throw new PageError('expired', 'This link has expired. Open the app again to get a new one.', problem);
    }
    deps.log.warn({ event: 'people.link_invalid', ip: ctx.ip }, 'remediation link with a bad signature');
    throw badLink('forbidden', "This link doesn't work.");
  }

  /** A form post's fields and link, once the fields, the link and the per-link CSRF token check out. */
  function posted<T extends LinkForm>(
    ctx: Context,
    form: ValidateFunction<T>,
    typed?: (body: T) => string,
  ): { body: T; link: DeviceLink } {
    const body: unknown = ctx.request.body;
    if (!check(form, body)) throw badLink('invalid', 'This form is incomplete. Reload the page and try again.');
    const { link } = linkOf(ctx, body.t, typed?.(body));
    if (!constantTimeEqual(body.csrf, csrfTokenFor(body.t, deps.hmacKey))) {
      throw badLink('forbidden', 'This form has expired. Reload the page and try again.');
    }
    return { body, link };
  }

  const pageOptions = (token: string) => ({
    token,
    csrf: csrfTokenFor(token, deps.hmacKey),
    help,
    formKey: randomId(12),
  });

  type PageExtra = { notice?: Notice; form?: FormState };
  /** The page for a link, with a notice or the emergency-access form's state. */
  async function pageHtml(link: DeviceLink, token: string, extra: PageExtra = {}): Promise<string> {
    const now = deps.clock.now();
    const view = await svc.view(link);
    return renderDevicePage(view, { ...pageOptions(token), ...extra }, now).html;
  }

  async function renderFailure(failure: { err: unknown }, ctx: Context): Promise<string> {
    pageHeaders(ctx);
    const now = deps.clock.now();
    const problem = failure.err instanceof PageError ? failure.err.problem : undefined;
    switch (problem?.kind) {
      case 'bad_link':
        return renderInvalidPage(help, now);
      case 'expired': {
        const resource = deps.policy().resources[problem.link.resource];
        const host = resource?.hosts[0];
        const title = resource?.title ?? problem.link.resource;
        return renderExpiredPage(problem.link, title, host ? `https://${host}/` : null, help, now, problem.typed);
      }
      case 'form':
        return pageHtml(problem.link, problem.token, { form: problem.form });
      default:
        return renderErrorPage(help, now);
    }
  }

  // Every /device answer carries the page's security headers (failures too: renderFailure sets them).
  r.use('/device', async (ctx, next) => {
    pageHeaders(ctx);
    await next();
  });

  for (const asset of PAGE_ASSETS) {
    r.get(asset.path, (ctx) => {
      ctx.set('Cache-Control', ASSET_CACHE_CONTROL);
      ctx.type = asset.contentType;
      ctx.body = asset.body;
    });
  }

  r.get('/device', async (ctx) => {
    const { link, token } = linkOf(ctx, ctx.query.t);
    deps.onPageView?.(link.serial);
    ctx.type = 'html';
    ctx.body = await pageHtml(link, token, noticeOf(ctx.query));
  });

  r.get('/device/status', async (ctx) => {
    const { link } = linkOf(ctx, ctx.query.t);
    ctx.body = statusPayload(await svc.view(link), deps.clock.now());
  });

  r.get('/device/fragment', async (ctx) => {
    const { link, token } = linkOf(ctx, ctx.query.t);
    const now = deps.clock.now();
    const view = await svc.view(link);
    const parts = renderContent(view, pageOptions(token), now);
    ctx.body = { version: view.version, checks: parts.checks.value, emergency: parts.emergency.value };
  });

  r.get('/device/events', async (ctx) => live.open(ctx, linkOf(ctx, ctx.query.t).link));

  // The form posts a plain page (303 back to it, with a notice) or the page's script (JSON: 202 or a failure).
  r.post('/device/recheck', formBody, async (ctx) => {
    const { body, link } = posted(ctx, linkForm);
    let out: Awaited<ReturnType<PeopleService['recheck']>>;
    try {
      out = await svc.recheck(link);
    } catch (e) {
      const waitS = coolDownOf(e);
      if (waitS === undefined) {
        deps.log.warn({ event: 'people.recheck_failed', err: errorMessage(e) }, 'recheck from the page failed');
      }
      if (wantsJson(ctx)) throw waitS === undefined ? recheckFailed(e) : e;
      seeOther(ctx, pageUrl(body.t, waitS === undefined ? '&m=recheck_failed' : `&m=wait&w=${waitS}`));
      return;
    }
    if (!wantsJson(ctx)) {
      seeOther(ctx, pageUrl(body.t, '&m=recheck'));
      return;
    }
    ctx.status = 202;
    ctx.body = { queued: out.queued, requested_at: out.requestedAt, available_at: out.availableAt };
  });

  r.post('/device/break-glass', formBody, async (ctx) => {
    const { body, link } = posted(ctx, breakGlassForm, (b) => (b.reason ?? '').trim());
    const reason = (body.reason ?? '').trim();
    const duration = body.duration ?? '';
    const form: FormState = { reason: body.reason ?? '', duration, errors: [] };
    const formError = (code: AppError['code'], message: string) =>
      new PageError(code, message, { kind: 'form', link, token: body.t, form });
    const reasonError =
      reason.length === 0
        ? 'Enter a reason: your IT team needs to know why.'
        : reason.length < 10
          ? 'Give a little more detail: at least 10 characters.'
          : undefined;
    if (reasonError) form.errors.push({ field: 'reason', message: reasonError });
    const choice = durationChoices(deps.policy().breakGlass.maxDurationMs).find((c) => c.value === duration);
    if (!choice) form.errors.push({ field: 'duration', message: 'Choose how long you need access.' });
    const [first] = form.errors;
    if (first || !choice) throw formError('invalid', first?.message ?? 'Choose how long you need access.');
    try {
      await deps.breakGlass.request({
        serial: link.serial,
        user: link.user,
        resource: link.resource,
        reason,
        durationMs: choice.ms,
        requestedBy: link.user,
        ...(body.idempotency_key ? { idempotencyKey: body.idempotency_key } : {}),
      });
    } catch (e) {
      if (!isAppError(e) || e.code === 'unavailable') throw e;
      if (e.code === 'invalid') form.errors.push({ field: 'reason', message: e.message });
      else form.refusal = e.code === 'not_found' ? UNKNOWN_LAPTOP : e.message;
      throw formError(e.code, e.message);
    }
    seeOther(ctx, pageUrl(body.t));
  });

  r.post('/device/break-glass/cancel', formBody, async (ctx) => {
    const { body, link } = posted(ctx, cancelForm);
    const g = await deps.breakGlass.get(body.id);
    if (!g || g.serial !== link.serial || g.user !== link.user) {
      seeOther(ctx, pageUrl(body.t));
      return;
    }
    try {
      await deps.breakGlass.cancel(body.id, link.user);
    } catch (e) {
      // decided meanwhile (approved, declined, expired): the page shows what happened
      if (!isAppError(e) || e.code !== 'conflict') throw e;
    }
    seeOther(ctx, pageUrl(body.t, '&m=cancelled'));
  });

  return { router: r, failures: { wantsJson, html: renderFailure } };
}

/** A recheck that failed for another reason than the cool-down, as the page's script is told. */
const recheckFailed = (cause: unknown): AppError =>
  unavailable("We couldn't ask your laptop to check again just now. Try again in a moment.", { cause });
