/**
 * The admin API's routes for what admins ask of agents and collect back: live queries (start a campaign,
 * read its answers) and file carves (list them, download a finished archive, `.tar` or `.tar.zst`).
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import { isoOf } from '../shared/clock.js';
import { invalid, notFound } from '../shared/errors.js';
import { actorOf, pathParam } from './request.js';
import type { AdminDeps, Guards } from './routes.js';
import { liveQueryBody, parseBody } from './schemas.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export function queryRoutes(
  r: Router,
  deps: Pick<AdminDeps, 'liveQuery' | 'liveQueryResults' | 'carves'>,
  { read, admin }: Guards,
): void {
  r.post('/queries', admin, async (ctx) => {
    const b = parseBody(liveQueryBody, ctx.request.body, 'live query');
    const out = await deps.liveQuery(b, actorOf(ctx));
    ctx.status = 201;
    ctx.body = out;
  });
  r.get('/queries/:id', read, async (ctx) => {
    ctx.body = await deps.liveQueryResults(pathParam(ctx.params, 'id'));
  });

  r.get('/carves', read, async (ctx) => {
    // the session id is the only credential of an old agent's blocks: admins only
    const admin = (ctx.state.actor as { role?: string } | undefined)?.role === 'admin';
    ctx.body = {
      carves: (await deps.carves.list()).map(({ sessionId, ...c }) => ({
        ...c,
        ...(admin ? { sessionId } : {}),
        createdAt: isoOf(c.createdAt),
        completedAt: c.completedAt === null ? null : isoOf(c.completedAt),
      })),
    };
  });
  r.get('/carves/:session/data', admin, async (ctx) => {
    const c = await deps.carves.get(pathParam(ctx.params, 'session'));
    if (!c) throw notFound('carve');
    const blocks = await deps.carves.blocks(c.sessionId);
    if (!blocks) throw invalid(`carve incomplete: ${c.blocksReceived}/${c.blockCount} blocks received`);
    const iterator = blocks[Symbol.iterator]();
    const first = iterator.next();
    const head = first.done ? Buffer.alloc(0) : first.value;
    const zstd = head.subarray(0, 4).equals(ZSTD_MAGIC);
    ctx.type = 'application/octet-stream';
    ctx.attachment(`${c.carveId}.tar${zstd ? '.zst' : ''}`);
    // streamed block by block: a large carve is never held in memory whole
    ctx.body = Readable.from(
      (function* () {
        yield head;
        yield* { [Symbol.iterator]: () => iterator };
      })(),
    );
  });
}
