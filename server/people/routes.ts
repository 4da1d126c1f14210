/**
 * HTTP of the remediation page (SPEC §6): GET /device?t=… and its live channel (/device/status JSON,
 * /device/events SSE in live.ts, /device/fragment), the page's form posts (/device/recheck,
 * /device/break-glass, /device/break-glass/cancel, in form-routes.ts) and its hashed assets. The signed
 * link and CSRF checks every route makes are in request.ts.
 *
 * One failure path: routes throw (a PageError for what the person should see, failure.ts); the app's
 * error boundary picks the status from the one table (http/errors.ts) and calls `failures` below, which
 * answers JSON to the page's script and JSON endpoints and our own HTML pages otherwise (never a stack,
 * never data a broken link should not show).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { ASSET_CACHE_CONTROL, PAGE_ASSETS } from './assets.js';
import { PageError } from './failure.js';
import { formRoutes } from './form-routes.js';
import { createLiveChannels } from './live.js';
import { renderContent } from './render-content.js';
import {
  renderErrorPage,
  renderExpiredPage,
  renderInvalidPage,
  statusPayload,
  type Help,
  type Notice,
} from './render.js';
import { createPageRequests } from './request.js';
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
  const req = createPageRequests(deps, svc, help);
  const { linkOf, pageOptions, pageHtml } = req;
  const live = createLiveChannels({
    clock: deps.clock,
    log: deps.log,
    view: (link) => svc.view(link),
    pollMs: deps.livePollMs ?? 1000,
    maxTotal: deps.maxLiveChannels ?? 2000,
    ...(deps.onLiveRender ? { onRender: deps.onLiveRender } : {}),
  });

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
  formRoutes(r, deps, svc, req, wantsJson);

  return { router: r, failures: { wantsJson, html: renderFailure } };
}
