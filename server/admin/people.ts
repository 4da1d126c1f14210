/**
 * The admin API's routes for the device's people (issue #13): the mappings of local account names to
 * people (list, set, remove; each change audited by the service) and one device's people with where each
 * comes from, and the accounts osquery reports as logged in on it with what they map to.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { AccountMapping } from '../domain/ports.js';
import type { Role } from '../domain/types.js';
import type { DevicePeopleService } from '../devices/people-service.js';
import { isoOf } from '../shared/clock.js';
import { invalid } from '../shared/errors.js';
import { accountMappingBody, parseBody } from './device-schemas.js';
import { actorOf, pathParam, text } from './request.js';

export interface PeopleRouteDeps {
  people: Pick<DevicePeopleService, 'listMappings' | 'setMapping' | 'removeMapping' | 'peopleOf' | 'accountsOf'>;
}

export const mappingJson = (m: AccountMapping) => ({
  serial: m.serial,
  account: m.account,
  person: m.person,
  created_at: isoOf(m.createdAt),
  created_by: m.createdBy,
});

export function devicePeopleRouter(deps: PeopleRouteDeps, requireRole: (...roles: Role[]) => Middleware): Router {
  const r = new Router({ prefix: '/api/v1' });
  const read = requireRole('viewer');
  const admin = requireRole('admin');
  const { people } = deps;
  r.get('/account-mappings', read, async (ctx) => {
    ctx.body = { mappings: (await people.listMappings()).map(mappingJson) };
  });
  r.put('/account-mappings', admin, async (ctx) => {
    const b = parseBody(accountMappingBody, ctx.request.body, 'account mapping');
    const out = await people.setMapping(b, actorOf(ctx));
    ctx.body = { mapping: mappingJson(out.mapping), replaced: out.replaced ? mappingJson(out.replaced) : null };
  });
  r.delete('/account-mappings', admin, async (ctx) => {
    const account = text(ctx.query.account, 'account');
    if (!account) throw invalid('query parameter "account" is required');
    await people.removeMapping(text(ctx.query.serial, 'serial') ?? null, account, actorOf(ctx));
    ctx.status = 204;
  });
  r.get('/devices/:serial/people', read, (ctx) => {
    const serial = pathParam(ctx.params, 'serial');
    ctx.body = {
      serial,
      people: people.peopleOf(serial),
      logged_in: people.accountsOf(serial),
    };
  });
  return r;
}
