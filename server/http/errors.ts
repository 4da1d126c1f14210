/**
 * The one failure path of every surface. Handlers and services throw AppErrors (shared/errors.ts) that
 * carry a code; this file is the only place that knows failure statuses (STATUS below) and renders:
 * - osquery: `{error}`, plus `node_invalid: true` for unknown node keys (osquery ignores the status; a
 *   body without "error" would read as success and drop the agent's buffered logs);
 * - the JSON APIs and the pages' JSON answers: `{error: {code, message}}` (with `details` and
 *   `retry_after_s` when the error carries them);
 * - the pages' HTML: the page module's own renderer (PageFailures, injected into the boundary).
 * Headers that go with a failure come from the error too: WWW-Authenticate (API 401), Retry-After, Allow.
 * An AppError's message is written for the client and is sent (a 4xx, or 503 unavailable: "retry later");
 * anything else (a bug, a driver error) is a 500 with a fixed text, and only the log has the cause.
 *
 * The koa app uses errorBoundary; the bare-Node handlers (gateway, osquery) get a FailureRenderer.
 */
import type { Context, Next } from 'koa';
import type { FailureRenderer, RenderedFailure } from '../shared/bare-http.js';
import { AppError, type ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';

/** The only code → HTTP status table. */
const STATUS: Readonly<Record<ErrorCode | 'internal', number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  expired: 410,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

export const statusFor = (code: ErrorCode | 'internal'): number => STATUS[code];

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  message?: string;
}

/** Turns body-parser / koa HttpErrors (which carry a status) into AppErrors so they render like the rest. */
export function normalizeError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e: HttpLikeError = typeof err === 'object' && err !== null ? err : {};
  const status = e.status ?? e.statusCode;
  if (status === 413 || e.type === 'entity.too.large') {
    return new AppError('too_large', 'request body is larger than the configured limit');
  }
  if (status === 415) {
    return new AppError('invalid', 'unsupported content type or encoding: send application/json (optionally gzip)');
  }
  if (status === 400) return new AppError('invalid', `malformed request body: ${e.message ?? 'invalid JSON'}`);
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError(status === 404 ? 'not_found' : 'invalid', e.message ?? 'bad request');
  }
  return err;
}

/** A failure as every renderer sees it: the normalized error, its code and status, the text a client may see. */
export interface Failure {
  err: unknown;
  code: ErrorCode | 'internal';
  status: number;
  /** The AppError's message; a fixed text for anything else (the cause is only logged). */
  message: string;
}

export function failureOf(raw: unknown): Failure {
  const err = normalizeError(raw);
  const code = err instanceof AppError ? err.code : 'internal';
  return { err, code, status: statusFor(code), message: err instanceof AppError ? err.message : 'internal error' };
}

export type Surface = 'osquery' | 'api' | 'page';

export function surfaceOf(path: string): Surface {
  if (path.startsWith('/api/osquery/') || path.startsWith('/api/v1/osquery/')) return 'osquery';
  if (path.startsWith('/api/') || path === '/metrics' || path === '/healthz' || path === '/readyz') return 'api';
  return 'page';
}

/** The JSON body of a failure on a surface (pages answer JSON like the API when they answer JSON). */
export function failureBody(surface: Surface, f: Failure): Record<string, unknown> {
  if (surface === 'osquery') {
    return f.code === 'unauthenticated' ? { node_invalid: true, error: f.message } : { error: f.message };
  }
  const e = f.err instanceof AppError ? f.err : undefined;
  return {
    error: {
      code: f.code,
      message: f.message,
      ...(e?.details !== undefined ? { details: e.details } : {}),
      ...(e?.retryAfterS !== undefined ? { retry_after_s: e.retryAfterS } : {}),
    },
  };
}

export function failureHeaders(surface: Surface, f: Failure): Record<string, string> {
  const headers: Record<string, string> = {};
  if (f.code === 'unauthenticated' && surface === 'api') headers['WWW-Authenticate'] = 'Bearer';
  if (f.err instanceof AppError) {
    if (f.err.retryAfterS !== undefined) headers['Retry-After'] = String(f.err.retryAfterS);
    if (f.err.allow) headers.Allow = f.err.allow.join(', ');
  }
  return headers;
}

type Where = { reqId?: string | undefined; path: string };

/** The one log line of a failed request: 5xx at error with the cause, 4xx at info with the reason. */
export function logFailure(log: Logger, raw: unknown, f: Failure, where: Where): void {
  if (f.status >= 500) {
    log.error({ event: 'http.error', ...where, err: raw }, 'request failed');
    return;
  }
  log.info({ event: 'http.rejected', ...where, status: f.status, code: f.code, reason: f.message }, 'request rejected');
}

/** What the bare-Node handlers (gateway, osquery) call on failure: renders for their surface and logs once. */
export function failureRenderer(surface: 'osquery' | 'api', log: Logger): FailureRenderer {
  return (raw, where): RenderedFailure => {
    const f = failureOf(raw);
    logFailure(log, raw, f, where);
    return { status: f.status, body: JSON.stringify(failureBody(surface, f)), headers: failureHeaders(surface, f) };
  };
}

/** How the pages render their failures (the people module provides it; see createPeoplePages). */
export interface PageFailures {
  /** True when this request gets the JSON body (the page's script, its JSON endpoints). */
  wantsJson(ctx: Context): boolean;
  /** The HTML of a failure page; may set page headers on ctx. The status is already chosen. */
  html(f: Failure, ctx: Context): Promise<string> | string;
}

async function renderInto(ctx: Context, raw: unknown, log: Logger, pages: PageFailures | undefined): Promise<void> {
  const surface = surfaceOf(ctx.path);
  const reqId = typeof ctx.state.reqId === 'string' ? ctx.state.reqId : undefined;
  let f = failureOf(raw);
  logFailure(log, raw, f, { reqId, path: ctx.path });
  let html: string | undefined;
  if (surface === 'page' && pages && !pages.wantsJson(ctx)) {
    try {
      html = await pages.html(f, ctx);
    } catch (again) {
      // the failure page itself failed (for example it shows the device and the store is down)
      f = failureOf(again);
      logFailure(log, again, f, { reqId, path: ctx.path });
      html = await pages.html(f, ctx);
    }
  }
  ctx.status = f.status;
  ctx.set(failureHeaders(surface, f));
  if (html !== undefined) {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  } else {
    ctx.body = failureBody(surface, f);
  }
}

/** The koa app's error boundary: every thrown value of every koa route is rendered here. */
export function errorBoundary(log: Logger, pages?: PageFailures) {
  return async function errorBoundaryMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (raw) {
      await renderInto(ctx, raw, log, pages);
    }
  };
}
