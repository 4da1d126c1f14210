/**
 * The gateway API (role `gateway`): verdict JSON, forward-auth and the bundle. It runs on the bare
 * Node request, in front of the koa app, because it is the hot path: parse the query or headers,
 * authenticate (cached), one map lookup in the precomputed verdicts, decide(), queue the answer (written
 * with the others read in the same loop turn: createAnswerBatch in shared/bare-http.ts). Every other path
 * falls through to koa. Failures go through the API's one renderer (status table, body, headers and the
 * log line: http/errors.ts, injected). This file owns the dispatch, authentication and the verdict JSON;
 * forward-auth.ts reads the proxy's headers, decisions.ts times, counts and logs each lookup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalPerson } from '../domain/identity.js';
import type { VerdictSource } from '../domain/verdict.js';
import type { Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { AppError, invalid } from '../shared/errors.js';
import { createAnswerBatch, sendFailure, sendJsonParts, type FailureRenderer } from '../shared/bare-http.js';
import { createDecisions } from './decisions.js';
import { createForwardAuth, MAX_PARAM, type ForwardAuthDeps } from './forward-auth.js';
import { queryValue } from './query.js';
import { verdictJson } from './verdict-json.js';

export interface GatewayDeps {
  verdicts: VerdictSource;
  /** Maps a request host (X-Forwarded-Host / X-Original-URL host) to a resource by policy host rules. */
  resourceForHost: ForwardAuthDeps['resourceForHost'];
  /** The device a client certificate (fingerprint) is mapped to, now (devices/cert-index.ts); null: nobody. */
  serialOfCert: ForwardAuthDeps['serialOfCert'];
  /** The SSO layer's header naming the person (default X-Auth-Request-Email). */
  ssoUserHeader: string;
  /** Authenticates the Authorization header for these roles, or throws AppError (`req`: failures are limited). */
  authorize(header: string | undefined, roles: readonly Role[], req?: IncomingMessage): Promise<unknown>;
  /** The same check answered from the token cache: undefined when the token is not cached (then use authorize). */
  authorizeCached?(header: string | undefined, roles: readonly Role[], req?: IncomingMessage): unknown;
  /** The API's failure rendering (status table, body, headers, the log line), shared with the koa surfaces. */
  renderError: FailureRenderer;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}

/**
 * Handles the request when it is a gateway endpoint; returns false to let the app handle it. `flush`
 * writes the decisions queued in this turn now (before other work of the turn: osquery/handler.ts).
 */
export type GatewayHandler = ((req: IncomingMessage, res: ServerResponse) => boolean) & { flush(): void };

const GATEWAY: readonly Role[] = ['gateway'];

function param(q: string, name: string): string | null {
  const s = queryValue(q, name);
  if (s === null || s === '') return null;
  if (s.length > MAX_PARAM) throw invalid(`query parameter "${name}" is longer than ${MAX_PARAM} characters`);
  return s;
}
const required = (q: string, name: string): string => {
  const v = param(q, name);
  if (v === null) throw invalid(`query parameter "${name}" is required`);
  return v;
};

export function createGatewayHandler(deps: GatewayDeps): GatewayHandler {
  // decision lines carry no secrets (the token is never logged): skip the redaction pass on the hot path
  const log = deps.log.child({ component: 'gateway' }, { redact: [] });
  const decisions = createDecisions(deps, log);
  const { lookup } = decisions;
  const authz = createForwardAuth(deps, decisions, log);
  // decisions are written together at the end of the loop turn that read them (bare-http.ts)
  const answers = createAnswerBatch();
  const answer = answers.send;

  function verdict(q: string): string {
    const serial = required(q, 'serial');
    const resource = required(q, 'resource');
    // the person as the gateway's SSO layer asserted it, canonical; anything else names nobody
    const out = lookup(serial, resource, canonicalPerson(param(q, 'user')));
    if (out.kind === 'unknown_resource')
      throw new AppError('not_found', `unknown resource "${resource}": resources are defined in policy.yaml`);
    return verdictJson(out.verdict);
  }

  const fail = (res: ServerResponse, path: string, err: unknown): void =>
    sendFailure(res, deps.renderError(err, { path }));

  /** Answers an authorized request (synchronously: a lookup and a queued write; the bundle may wait for a rebuild). */
  function respond(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    try {
      if (path === '/api/v1/verdict') {
        answer(res, 200, verdict(query));
      } else if (path === '/api/v1/authz') {
        const d = authz(req);
        // the forward-auth answer: 200 allow / 403 deny is the decision itself, not a failure
        answer(res, d.status, `{"decision":"${d.headers['X-Trustgate-Decision']}"}`, d.headers);
      } else void sendBundle(req, res, path);
    } catch (err) {
      fail(res, path, err);
    }
  }

  /** The bundle: rebuilt, when stale, in chunks that yield, so decisions are not held up meanwhile. */
  async function sendBundle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const snap = await deps.verdicts.bundleInChunks();
      if (req.headers['if-none-match'] === snap.etag) {
        res.statusCode = 304;
        res.setHeader('ETag', snap.etag);
        res.end();
      } else await sendJsonParts(res, snap.parts, { ETag: snap.etag });
    } catch (err) {
      fail(res, path, err);
    }
  }

  async function authorizeThenRespond(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
  ): Promise<void> {
    try {
      await deps.authorize(req.headers.authorization, GATEWAY, req);
    } catch (err) {
      fail(res, path, err);
      return;
    }
    respond(req, res, path, query);
  }

  /** Not a gateway request: the decisions waiting to be written go first (they must not wait behind it). */
  const other = (): false => {
    answers.flush();
    return false;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return other();
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== '/api/v1/verdict' && path !== '/api/v1/authz' && path !== '/api/v1/verdicts/bundle') return other();
    const query = q < 0 ? '' : url.slice(q + 1);
    // A token seen in the last seconds is answered in this same turn, with no promise in between
    // (the hot path stays synchronous: lookup, decide, write). Otherwise (first use, cache expired) the
    // store is asked first.
    let cached: boolean;
    try {
      cached = deps.authorizeCached?.(req.headers.authorization, GATEWAY, req) !== undefined;
    } catch (err) {
      fail(res, path, err);
      return true;
    }
    if (cached) respond(req, res, path, query);
    else void authorizeThenRespond(req, res, path, query);
    return true;
  };
  return Object.assign(handle, { flush: answers.flush });
}
