/**
 * The admin API's packs and policy routes: list, read, write and delete packs; read, write and dry-run
 * the policy (YAML or JSON text, or a JSON policy object).
 */
import type Router from '@koa/router';
import { invalid, notFound } from '../shared/errors.js';
import { actorOf, pathParam, roleOf } from './request.js';
import type { AdminDeps, Guards } from './routes.js';
import { parseBody, policyBody } from './schemas.js';

/** A policy body as text and format: a plain JSON policy object, or `{text, format}` / `{policy}`. */
function policyText(body: unknown): { text: string; format: 'yaml' | 'json' } {
  if (typeof body === 'object' && body !== null && !('text' in body) && !('policy' in body))
    return { text: JSON.stringify(body), format: 'json' };
  const b = parseBody(policyBody, body, 'policy body');
  return b.text !== undefined
    ? { text: b.text, format: b.format ?? 'yaml' }
    : { text: JSON.stringify(b.policy), format: 'json' };
}

export function packRoutes(r: Router, deps: Pick<AdminDeps, 'packs' | 'policy'>, { read, admin }: Guards): void {
  r.get('/packs', read, (ctx) => {
    ctx.body = { packs: deps.packs.list() };
  });
  r.get('/packs/:name', read, (ctx) => {
    const name = pathParam(ctx.params, 'name');
    const p = deps.packs.get(name);
    if (p === undefined) throw notFound(`pack "${name}"`);
    ctx.body = p;
  });
  r.put('/packs/:name', admin, async (ctx) => {
    const name = pathParam(ctx.params, 'name');
    const body = ctx.request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('send the pack as a JSON object in osquery pack format');
    const out = await deps.packs.put(name, JSON.stringify(body, null, 2), actorOf(ctx));
    ctx.body = { name, checks: out.checks };
  });
  r.delete('/packs/:name', admin, async (ctx) => {
    await deps.packs.remove(pathParam(ctx.params, 'name'), actorOf(ctx));
    ctx.status = 204;
  });

  r.get('/policy', read, (ctx) => {
    // the webhook URLs are secrets: shown to admins only
    ctx.body = deps.policy.get({ secrets: roleOf(ctx) === 'admin' });
  });
  r.put('/policy', admin, async (ctx) => {
    const p = policyText(ctx.request.body);
    await deps.policy.put(p.text, p.format, actorOf(ctx));
    ctx.body = deps.policy.get();
  });
  r.post('/policy/dry-run', read, (ctx) => {
    const p = policyText(ctx.request.body);
    ctx.body = deps.policy.dryRun(p.text, p.format);
  });
}
