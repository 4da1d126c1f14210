/**
 * The one error boundary and renderer (statuses come from HTTP_STATUS in shared/errors.ts). Each surface
 * renders its own body:
 * - osquery: `{node_invalid: true}` for unknown keys, `{error}` for everything else (osquery ignores
 *   the status; a body without "error" would read as success and drop the agent's buffered logs);
 * - JSON APIs: `{error: {code, message}}`;
 * - pages: rendered by the people module (it catches its own errors).
 * Messages are exposed for 4xx only; 5xx send a fixed text and log the cause.
 */
import type { Context, Next } from 'koa';
import { AppError, HTTP_STATUS } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';

export const statusOf = (err: unknown): number => (err instanceof AppError ? HTTP_STATUS[err.code] : 500);

interface HttpLikeError { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string }

/** Turns body-parser / koa HttpErrors into AppErrors so they render like the rest. */
export function normalizeError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  const status = e.status ?? e.statusCode;
  if (status === 413 || e.type === 'entity.too.large') return new AppError('too_large', 'request body is larger than the configured limit');
  if (status === 415) return new AppError('invalid', 'unsupported content type or encoding: send application/json (optionally gzip)');
  if (status === 400) return new AppError('invalid', `malformed request body: ${e.message ?? 'invalid JSON'}`);
  if (status !== undefined && status >= 400 && status < 500) return new AppError(status === 404 ? 'not_found' : 'invalid', e.message ?? 'bad request');
  return err;
}

export type Surface = 'osquery' | 'api' | 'page';

export function surfaceOf(path: string): Surface {
  if (path.startsWith('/api/osquery/') || path.startsWith('/api/v1/osquery/')) return 'osquery';
  if (path.startsWith('/api/') || path === '/metrics' || path === '/healthz' || path === '/readyz') return 'api';
  return 'page';
}

export function renderError(surface: Surface, err: unknown, status: number): Record<string, unknown> {
  const message = status < 500 && err instanceof AppError ? err.message : 'internal error';
  if (surface === 'osquery') return status === 401 ? { node_invalid: true, error: message } : { error: message };
  const code = err instanceof AppError ? err.code : 'internal';
  const details = status < 500 && err instanceof AppError && err.details !== undefined ? { details: err.details } : {};
  return { error: { code, message, ...details } };
}

/** Status and JSON body of an API error (for handlers outside koa, e.g. the gateway fast path). */
export function renderApiError(raw: unknown): { status: number; body: Record<string, unknown> } {
  return renderFor('api', raw);
}

/** Status and body of an error on a JSON surface (for handlers outside koa). */
export function renderFor(surface: Exclude<Surface, 'page'>, raw: unknown): { status: number; body: Record<string, unknown> } {
  const err = normalizeError(raw);
  const status = statusOf(err);
  return { status, body: renderError(surface, err, status) };
}

/** The one log line of a failed request: 5xx at error with the cause, 4xx at info with the reason. */
export function logFailure(log: Logger, raw: unknown, status: number, fields: { reqId?: string; path: string }): void {
  const err = normalizeError(raw);
  if (status >= 500) log.error({ event: 'http.error', ...fields, err: raw }, 'request failed');
  else log.info({ event: 'http.rejected', ...fields, status, code: err instanceof AppError ? err.code : undefined, reason: err instanceof AppError ? err.message : undefined }, 'request rejected');
}

/** What handlers outside koa call on failure: renders for the surface and logs the one line. */
export type FailureRenderer = (raw: unknown, where: { reqId?: string; path: string }) => { status: number; body: Record<string, unknown> };

export function failureRenderer(surface: Exclude<Surface, 'page'>, log: Logger): FailureRenderer {
  return (raw, where) => {
    const out = renderFor(surface, raw);
    logFailure(log, raw, out.status, where);
    return out;
  };
}

export function errorBoundary(log: Logger) {
  return async function errorBoundaryMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (raw) {
      const err = normalizeError(raw);
      const status = statusOf(err);
      logFailure(log, raw, status, { reqId: ctx.state.reqId as string | undefined, path: ctx.path });
      ctx.status = status;
      const surface = surfaceOf(ctx.path);
      if (surface === 'page') {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = `<!doctype html><meta charset="utf-8"><title>Trustgate</title><p>${status >= 500 ? 'Something went wrong.' : escapeHtml(err instanceof AppError ? err.message : 'Request failed')}</p>`;
      } else {
        ctx.body = renderError(surface, err, status);
      }
      if (status === 401 && surface === 'api') ctx.set('WWW-Authenticate', 'Bearer');
    }
  };
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
