/**
 * Koa assembly: request context → error boundary → body parser (size-limited, gzip-aware) → routes.
 * Routers arrive fully built, and so does the pages' failure rendering; this file only orders them.
 */
import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import { nestedDeeperThan, tooDeepMessage } from '../shared/json-depth.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { AppError, unauthenticated } from '../shared/errors.js';
import { errorBoundary, statusFor, surfaceOf, type PageFailures } from './errors.js';
import { metricsAllowed } from './listener.js';

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  ready: () => Promise<boolean>;
  routers: Router[];
  /** How the pages (server-rendered HTML) render a failure; without it they answer JSON like the API. */
  pages?: PageFailures;
  /** `/metrics` here (optionally behind a bearer token), or `false` when it has a listener of its own. */
  metricsRoute?: false | { token?: string | undefined };
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true; // errors are logged by the boundary, never by koa's default handler

  app.use(async (ctx, next) => {
    // the request id is logged by the error boundary; no per-request child logger on the hot paths
    const reqId = randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('X-Request-Id', reqId);
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(errorBoundary(deps.log, deps.pages));
  app.use(
    bodyParser({
      enableTypes: ['json', 'form'],
      jsonLimit: `${deps.maxBodyBytes}b`,
      formLimit: `${Math.min(deps.maxBodyBytes, 1024 * 1024)}b`,
      strict: true,
      // osquery sends application/json; treat every /api body as JSON whatever the content type says
      detectJSON: (ctx) => ctx.path.startsWith('/api/'),
    }),
  );
  app.use(async (ctx, next) => {
    // a body nested deeper than any real one is refused before a recursive walk (ajv, stringify) meets it
    const body: unknown = ctx.request.body;
    if (nestedDeeperThan(body)) throw new AppError('invalid', `malformed request body: ${tooDeepMessage('the body')}`);
    await next();
  });

  const base = new Router();
  base.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  base.get('/readyz', async (ctx) => {
    const ok = await deps.ready();
    // a probe's answer, not a failure: the body says why (no error envelope)
    ctx.status = ok ? 200 : statusFor('unavailable');
    ctx.body = { status: ok ? 'ready' : 'unavailable' };
  });
  const metricsRoute = deps.metricsRoute ?? {};
  if (metricsRoute) {
    base.get('/metrics', async (ctx) => {
      if (!metricsAllowed(ctx.get('authorization') || undefined, metricsRoute.token))
        throw unauthenticated('/metrics needs "Authorization: Bearer <TRUSTGATE_METRICS_TOKEN>"');
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    });
  }
  app.use(base.routes()).use(base.allowedMethods());
  for (const r of deps.routers) app.use(r.routes()).use(r.allowedMethods({ throw: false }));

  app.use(async (ctx) => {
    if (ctx.status === statusFor('not_found') && ctx.body === undefined) {
      const surface = surfaceOf(ctx.path);
      if (surface !== 'page') throw new AppError('not_found', `no such endpoint: ${ctx.method} ${ctx.path}`);
    }
  });
  return app;
}
