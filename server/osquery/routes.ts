/**
 * The osquery route table: /api/osquery/* and the Fleet-compatible /api/v1/osquery/* serve the same
 * handlers. Enroll and carve/block are authenticated by secret / session id; everything else by node
 * key (body `node_key`, or `Authorization: NodeKey <key>` from osquery ≥ 5.23).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Host } from '../domain/types.js';
import type { Metrics } from '../shared/metrics.js';
import type { OsqueryService } from './service.js';
import { carveBeginBody, carveBlockBody, distributedWriteBody, enrollBody, logBody, nodeKeyBody, parse } from './schemas.js';

const NODE_KEY_HEADER = /^NodeKey\s+(\S+)$/i;

function nodeKeyOf(ctx: Context): string | undefined {
  const m = NODE_KEY_HEADER.exec(ctx.get('authorization'));
  if (m?.[1]) return m[1];
  const body = parse(nodeKeyBody, ctx.request.body ?? {}, 'request body');
  return body.node_key;
}

const hostOf = (ctx: Context): Host => ctx.state.host as Host;

export function osqueryRouter(svc: OsqueryService, metrics?: Metrics): Router[] {
  const requireNode = async (ctx: Context, next: Next) => {
    ctx.state.host = await svc.authenticate(nodeKeyOf(ctx));
    await next();
  };
  const count = (endpoint: string) => async (ctx: Context, next: Next) => {
    try {
      await next();
      metrics?.requests.inc({ endpoint, outcome: 'ok' });
    } catch (e) {
      metrics?.requests.inc({ endpoint, outcome: 'error' });
      throw e;
    }
  };

  return ['/api/osquery', '/api/v1/osquery'].map((prefix) => {
    const r = new Router({ prefix });
    r.post('/enroll', count('enroll'), async (ctx) => {
      const { nodeKey } = await svc.enroll(parse(enrollBody, ctx.request.body, 'enroll request'));
      ctx.body = { node_key: nodeKey, node_invalid: false };
    });
    r.post('/config', count('config'), requireNode, async (ctx) => {
      ctx.type = 'application/json';
      ctx.body = svc.config(hostOf(ctx));
    });
    r.post('/log', count('log'), requireNode, async (ctx) => {
      await svc.log(hostOf(ctx), parse(logBody, ctx.request.body, 'log request'));
      ctx.body = {};
    });
    r.post('/distributed/read', count('distributed_read'), requireNode, async (ctx) => {
      const out = await svc.distributedRead(hostOf(ctx));
      ctx.body = { ...out, node_invalid: false };
    });
    r.post('/distributed/write', count('distributed_write'), requireNode, async (ctx) => {
      await svc.distributedWrite(hostOf(ctx), parse(distributedWriteBody, ctx.request.body, 'distributed write'));
      ctx.body = {};
    });
    r.post('/carve/begin', count('carve_begin'), requireNode, async (ctx) => {
      const { sessionId } = await svc.carveBegin(hostOf(ctx), parse(carveBeginBody, ctx.request.body, 'carve begin'));
      ctx.body = { session_id: sessionId, success: true };
    });
    r.post('/carve/block', count('carve_block'), async (ctx) => {
      await svc.carveBlock(parse(carveBlockBody, ctx.request.body, 'carve block'));
      ctx.body = { success: true };
    });
    return r;
  });
}
