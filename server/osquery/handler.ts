/**
 * The osquery route table, served on the bare Node request in front of the koa app (like the gateway):
 * check-ins and log batches are most of the server's traffic at fleet scale, and each one is small, so
 * the per-request framework cost dominated their CPU. /api/osquery/* and the Fleet-compatible
 * /api/v1/osquery/* serve the same handlers. Enroll and carve/block are authenticated by secret / session
 * id; everything else by node key (body `node_key`, or `Authorization: NodeKey <key>` from osquery ≥ 5.23).
 *
 * In the certificate modes the connection's client certificate (read once per connection by `peerCert`)
 * goes with every call: enrollment proves the device with it, every other request is held to it.
 *
 * A body is read as it arrives, then waits for its turn (shared/turns.ts: a few per turn of the event
 * loop) before it is parsed, authenticated and stored, so a gateway decision read meanwhile is not held
 * up behind every agent request that arrived with it.
 *
 * Every answer is JSON. Failures always carry "error" (osquery reads a body without it as success and
 * would drop its buffered logs), unknown node keys add `node_invalid: true`; statuses, bodies and headers
 * come from the one failure renderer in http/errors.ts (injected, as for the gateway).
 *
 * A wrong enroll secret counts against the failed-authentication limit (shared/auth-failures.ts) per client
 * address and per secret, an unknown node key per key only: past the budget the answer is 429 with
 * Retry-After and an `error` body (no `node_invalid`: the agent keeps its key and retries later).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Host, PresentedCert } from '../domain/types.js';
import type { Metrics } from '../shared/metrics.js';
import type { AuthFailures } from '../shared/auth-failures.js';
import type { ClientAddress } from '../shared/client-address.js';
import { AppError } from '../shared/errors.js';
import { readJsonBody, sendFailure, sendOk, type FailureRenderer } from '../shared/bare-http.js';
import { turnQueue } from '../shared/turns.js';
import type { OsqueryService } from './service.js';
import {
  carveBeginBody,
  carveBlockBody,
  distributedWriteBody,
  enrollBody,
  logBody,
  nodeKeyBody,
  parse,
} from './schemas.js';

export interface OsqueryHandlerDeps {
  svc: OsqueryService;
  maxBodyBytes: number;
  /** The failure rendering of the osquery surface (status table, body, headers, the log line). */
  renderError: FailureRenderer;
  /** The client certificate of the request's connection (cached per connection); absent: none is asked for. */
  peerCert?: (req: IncomingMessage) => PresentedCert | null;
  metrics?: Metrics;
  /** The failed-authentication limit and the client address it is keyed by; absent: no limit. */
  failures?: { limit: AuthFailures; addressOf: ClientAddress };
  /** Runs at the start of every turn of request work (the gateway's queued decisions are written first). */
  beforeTurn?: () => void;
}

/** Handles the request when it is an osquery endpoint; returns false to let the app handle it. */
export type OsqueryHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const PREFIXES = ['/api/v1/osquery/', '/api/osquery/'] as const;
const NODE_KEY_HEADER = /^NodeKey\s+(\S+)$/i;
const POST_ONLY = ['POST'] as const;

type Endpoint = (body: unknown, req: IncomingMessage) => Promise<unknown> | unknown;

function nodeKeyOf(req: IncomingMessage, body: unknown): string | undefined {
  const m = NODE_KEY_HEADER.exec(req.headers.authorization ?? '');
  if (m?.[1]) return m[1];
  return parse(nodeKeyBody, body, 'request body').node_key;
}

/** The endpoints by the path after the prefix: [endpoint name (metrics label), handler]. */
function osqueryRoutes(
  svc: OsqueryService,
  peerCert: (req: IncomingMessage) => PresentedCert | null,
  failures: OsqueryHandlerDeps['failures'],
): Map<string, [string, Endpoint]> {
  /**
   * Runs an authentication; a failure counts against the limit and may become rate_limited. Node keys
   * count per key only (`perAddress` false): a fleet whose keys all became invalid re-enrolls at once.
   */
  async function limited<T>(
    req: IncomingMessage,
    credential: string | undefined,
    perAddress: boolean,
    run: () => Promise<T>,
  ) {
    try {
      return await run();
    } catch (err) {
      if (!failures) throw err;
      throw failures.limit.refuse(err, { address: perAddress ? failures.addressOf(req) : undefined, credential });
    }
  }
  const node = (req: IncomingMessage, body: unknown): Promise<Host> => {
    const key = nodeKeyOf(req, body);
    return limited(req, key, false, () => svc.authenticate(key, peerCert(req)));
  };
  const enroll: Endpoint = async (body, req) => {
    const request = parse(enrollBody, body, 'enroll request');
    const { nodeKey } = await limited(req, request.enroll_secret, true, () => svc.enroll(request, peerCert(req)));
    return { node_key: nodeKey, node_invalid: false };
  };
  const config: Endpoint = async (body, req) => svc.config(await node(req, body));
  const log: Endpoint = async (body, req) => {
    const host = await node(req, body);
    await svc.log(host, parse(logBody, body, 'log request'));
    return {};
  };
  const distributedRead: Endpoint = async (body, req) => ({
    ...(await svc.distributedRead(await node(req, body))),
    node_invalid: false,
  });
  const distributedWrite: Endpoint = async (body, req) => {
    const host = await node(req, body);
    await svc.distributedWrite(host, parse(distributedWriteBody, body, 'distributed write'));
    return {};
  };
  const carveBegin: Endpoint = async (body, req) => {
    const host = await node(req, body);
    const { sessionId } = await svc.carveBegin(host, parse(carveBeginBody, body, 'carve begin'));
    return { session_id: sessionId, success: true };
  };
  const carveBlock: Endpoint = async (body, req) => {
    const block = parse(carveBlockBody, body, 'carve block');
    // osquery 5.23+ sends its node key with blocks: then the block must come from the session's host
    const sender = nodeKeyOf(req, body) === undefined ? undefined : await node(req, body);
    await svc.carveBlock(block, sender);
    return { success: true };
  };
  return new Map<string, [string, Endpoint]>([
    ['enroll', ['enroll', enroll]],
    ['config', ['config', config]],
    ['log', ['log', log]],
    ['distributed/read', ['distributed_read', distributedRead]],
    ['distributed/write', ['distributed_write', distributedWrite]],
    ['carve/begin', ['carve_begin', carveBegin]],
    ['carve/block', ['carve_block', carveBlock]],
  ]);
}

export function createOsqueryHandler(deps: OsqueryHandlerDeps): OsqueryHandler {
  const { metrics } = deps;
  const routes = osqueryRoutes(deps.svc, deps.peerCert ?? (() => null), deps.failures);
  // a body is parsed and stored in its turn, a few per turn of the event loop (shared/turns.ts)
  const turn = turnQueue(undefined, deps.beforeTurn);

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: [string, Endpoint] | undefined,
  ): Promise<void> {
    const endpoint = route?.[0];
    try {
      if (!route) throw new AppError('not_found', `no such endpoint: ${req.method ?? ''} ${path}`);
      if (req.method !== 'POST') {
        const why = `${req.method ?? ''} is not allowed on ${path}: osquery endpoints take POST`;
        throw new AppError('method_not_allowed', why, undefined, { allow: POST_ONLY });
      }
      const out = await route[1](await readJsonBody(req, deps.maxBodyBytes, turn), req);
      // config is already JSON text (compiled once per platform and packs version)
      sendOk(res, typeof out === 'string' ? out : JSON.stringify(out));
      if (endpoint) metrics?.requests.inc({ endpoint, outcome: 'ok' });
    } catch (raw) {
      if (endpoint) metrics?.requests.inc({ endpoint, outcome: 'error' });
      const reqId = randomUUID();
      // a body left unread (refused before or while reading it) must not be parsed as the next request
      const extra: Record<string, string> = { 'X-Request-Id': reqId };
      if (!req.complete) extra.Connection = 'close';
      sendFailure(res, deps.renderError(raw, { reqId, path }), extra);
    }
  }

  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const prefix = PREFIXES.find((p) => path.startsWith(p));
    if (!prefix) return false;
    void handle(req, res, path, routes.get(path.slice(prefix.length)));
    return true;
  };
}
