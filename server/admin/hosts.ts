/**
 * The admin API's host routes: list (filtered by platform, search or failing/passing), one host with its
 * details, checks, decisions and status logs (every host of a conflicting serial; the JSON shape is
 * host-json.ts, shared with the CLI), its latest results and status logs, recheck, and unenroll.
 */
import type Router from '@koa/router';
import type { Host, LatestResult } from '../domain/types.js';
import { isoOf } from '../shared/clock.js';
import { invalid, notFound } from '../shared/errors.js';
import { hostDetail, hostListEntry, statusLogJson } from './host-json.js';
import { actorOf, int, pathParam, text } from './request.js';
import type { AdminDeps, Guards } from './routes.js';

type HostDeps = Pick<
  AdminDeps,
  'hosts' | 'results' | 'checkStates' | 'summary' | 'checks' | 'lastSeen' | 'recheck' | 'unenroll' | 'clock'
>;

const resultJson = (l: LatestResult) => ({
  query: l.queryKey,
  rows: l.rows,
  observed_at: isoOf(l.observedAt),
  epoch: l.epoch,
  counter: l.counter,
  error: l.error,
  updated_at: isoOf(l.updatedAt),
});

/** GET /hosts: filtered by platform or search in the store; by failing/passing here, then paged. */
async function hostList(deps: HostDeps, q: Record<string, unknown>) {
  const status = text(q.status, 'status');
  if (status !== undefined && status !== 'failing' && status !== 'passing')
    throw invalid('status must be "failing" or "passing"');
  const platform = text(q.platform, 'platform');
  const search = text(q.search, 'search');
  const limit = int(q.limit, 'limit', 1000, 100_000);
  const offset = int(q.offset, 'offset', 0, 10_000_000);
  const now = deps.clock.now();
  const hosts = await deps.hosts.list({
    ...(platform ? { platform } : {}),
    ...(search ? { search } : {}),
    ...(status ? {} : { limit, offset }),
  });
  const rows = hosts.map((h) => hostListEntry(deps, h, now));
  return status ? rows.filter((x) => x.failing === (status === 'failing')).slice(offset, offset + limit) : rows;
}

export function hostRoutes(r: Router, deps: HostDeps, { read, admin }: Guards): void {
  /** The host with this serial (the first of a conflicting serial), or not_found. */
  async function oneHost(serial: string): Promise<Host> {
    const [host] = await deps.hosts.findBySerial(serial);
    if (!host) throw notFound(`host with serial "${serial}"`);
    return host;
  }

  r.get('/hosts', read, async (ctx) => {
    ctx.body = { hosts: await hostList(deps, ctx.query) };
  });
  r.get('/hosts/:serial', read, async (ctx) => {
    ctx.body = await hostDetail(deps, pathParam(ctx.params, 'serial'), deps.clock.now());
  });
  r.get('/hosts/:serial/results', read, async (ctx) => {
    const h = await oneHost(pathParam(ctx.params, 'serial'));
    const query = text(ctx.query.query, 'query', 1024);
    const latest = (await deps.results.latestForHost(h.id)).filter((l) => query === undefined || l.queryKey === query);
    ctx.body = {
      serial: h.serial,
      results: latest.map(resultJson),
    };
  });
  r.get('/hosts/:serial/status-logs', read, async (ctx) => {
    const h = await oneHost(pathParam(ctx.params, 'serial'));
    const limit = int(ctx.query.limit, 'limit', 100, 10_000);
    ctx.body = {
      serial: h.serial,
      status_logs: (await deps.results.statusLogs(h.id, limit)).map(statusLogJson),
    };
  });
  r.post('/hosts/:serial/recheck', admin, async (ctx) => {
    const serial = pathParam(ctx.params, 'serial');
    await oneHost(serial);
    const out = await deps.recheck(serial, actorOf(ctx));
    ctx.status = 202;
    ctx.body = { serial, queued: out.queued };
  });
  r.delete('/hosts/:serial', admin, async (ctx) => {
    const serial = pathParam(ctx.params, 'serial');
    await oneHost(serial);
    const n = await deps.unenroll(serial, actorOf(ctx));
    ctx.body = { serial, unenrolled: n };
  });
}
