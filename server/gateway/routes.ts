/**
 * The gateway API (role `gateway`): verdict JSON, forward-auth, and the bundle for local caching.
 * The decision path: authenticate (cached) → one map lookup in the precomputed verdicts → decide().
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { VerdictLookup, VerdictSource } from '../domain/verdict.js';
import type { Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { AppError, invalid } from '../shared/errors.js';
import { decide, denyDecision } from './decide.js';

export interface GatewayDeps {
  verdicts: VerdictSource;
  /** Maps a request host (X-Forwarded-Host / X-Original-URL host) to a resource by policy host rules. */
  resourceForHost(host: string): string | undefined;
  requireRole: (...roles: Role[]) => Middleware;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}

const MAX_PARAM = 256;
function param(v: unknown, name: string, required: true): string;
function param(v: unknown, name: string, required: false): string | null;
function param(v: unknown, name: string, required: boolean): string | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || s === '') {
    if (required) throw invalid(`query parameter "${name}" is required`);
    return null;
  }
  if (s.length > MAX_PARAM) throw invalid(`query parameter "${name}" is longer than ${MAX_PARAM} characters`);
  return s;
}

function hostOfUrl(u: string): string | undefined {
  try {
    return new URL(u).hostname;
  } catch {
    return undefined;
  }
}

export function gatewayRouter(deps: GatewayDeps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const gw = deps.requireRole('gateway');

  function lookup(serial: string, resource: string, user: string | null): VerdictLookup {
    const t0 = performance.now();
    const out = deps.verdicts.verdict(serial, resource, user, deps.clock.now());
    const latencyMs = performance.now() - t0;
    const decision = out.kind === 'verdict' ? out.verdict.decision : 'deny';
    const mode = out.kind === 'verdict' ? (out.verdict.enforced ? 'enforce' : 'monitor') : 'none';
    deps.metrics?.decisions.inc({ resource: out.kind === 'verdict' ? resource : '(unknown)', decision, mode });
    deps.metrics?.decisionSeconds.observe(latencyMs / 1000);
    deps.log.info({
      event: 'gateway.decision', serial, user, resource, decision,
      would_deny: out.kind === 'verdict' ? out.verdict.would_deny : true,
      reasons: out.kind === 'verdict' ? out.verdict.reasons.map((x) => `${x.check}:${x.status}`) : ['unknown_resource'],
      break_glass: out.kind === 'verdict' ? out.verdict.break_glass?.id ?? null : null, latencyMs: Number(latencyMs.toFixed(3)),
    }, 'decision');
    return out;
  }

  r.get('/verdict', gw, (ctx) => {
    const serial = param(ctx.query.serial, 'serial', true);
    const resource = param(ctx.query.resource, 'resource', true);
    const user = param(ctx.query.user, 'user', false);
    const out = lookup(serial, resource, user);
    if (out.kind === 'unknown_resource') throw new AppError('not_found', `unknown resource "${resource}": resources are defined in policy.yaml`);
    ctx.body = out.verdict;
  });

  r.get('/authz', gw, (ctx: Context) => {
    const serial = ctx.get('x-device-serial').slice(0, MAX_PARAM);
    const user = (ctx.get('x-forwarded-user') || ctx.get('x-auth-request-user')).slice(0, MAX_PARAM) || null;
    let resource = ctx.get('x-trustgate-resource').slice(0, MAX_PARAM);
    if (!resource) {
      const host = ctx.get('x-forwarded-host').split(',')[0]?.trim().replace(/:\d+$/, '') || hostOfUrl(ctx.get('x-original-url')) || '';
      resource = (host && deps.resourceForHost(host.toLowerCase())) || '';
    }
    const d = !serial ? denyDecision('no_device_serial') : !resource ? denyDecision('unknown_resource') : decide(lookup(serial, resource, user));
    if (!serial || !resource) deps.log.info({ event: 'gateway.decision', serial: serial || null, user, resource: resource || null, decision: 'deny', reasons: [d.headers['X-Trustgate-Reasons']] }, 'decision');
    ctx.status = d.status;
    ctx.set(d.headers);
    ctx.body = { decision: d.headers['X-Trustgate-Decision'] };
  });

  r.get('/verdicts/bundle', gw, (ctx) => {
    const snap = deps.verdicts.bundle();
    ctx.set('ETag', snap.etag);
    if (ctx.get('if-none-match') === snap.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/json';
    ctx.body = snap.json;
  });
  return r;
}
