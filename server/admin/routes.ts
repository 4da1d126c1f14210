/**
 * The admin API (SPEC §7): role `admin` mutates, `viewer` reads. Handlers are thin: validate → call a
 * dependency → shape the answer. Every mutation is audited with its actor. This file owns the API's
 * dependencies and assembles its route tables: hosts.ts, packs.ts (packs and policy), queries.ts (live
 * queries and carves), credentials.ts (enroll secrets and tokens).
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { CarveRepo, EnrollSecretRepo, HostRepo, ResultRepo, TokenRepo } from '../domain/ports.js';
import type { CheckDef, CheckState, Host, Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Credentials } from '../control/credentials.js';
import type { HostOperations } from '../control/operations.js';
import type { PacksApi } from '../control/packs-api.js';
import type { HostSummary } from '../control/summary.js';
import { credentialRoutes } from './credentials.js';
import { hostRoutes } from './hosts.js';
import { packRoutes } from './packs.js';
import { queryRoutes } from './queries.js';

export interface AdminDeps {
  hosts: Pick<HostRepo, 'list' | 'findBySerial' | 'details'>;
  results: Pick<ResultRepo, 'statusLogs' | 'latestForHost'>;
  checkStates(hostId: number): Promise<CheckState[]>;
  tokens: Pick<TokenRepo, 'list'>;
  secrets: Pick<EnrollSecretRepo, 'list'>;
  /** Creates and revokes tokens and enroll secrets, audited. */
  credentials: Credentials;
  carves: Pick<CarveRepo, 'list' | 'get' | 'blocks'>;
  summary(host: Host, now: number): HostSummary;
  /** The loaded checks, in load order (a host's checks without a result show as unknown). */
  checks(): readonly CheckDef[];
  /** When the host was last seen (the last-seen registry). */
  lastSeen(host: Host): number;
  recheck: HostOperations['recheck'];
  unenroll: HostOperations['unenroll'];
  packs: PacksApi['packs'];
  policy: PacksApi['policy'];
  liveQuery: HostOperations['liveQuery'];
  liveQueryResults: HostOperations['liveQueryResults'];
  requireRole: (...roles: Role[]) => Middleware;
  clock: Clock;
}

/** The role guards of the admin API: `viewer` reads (admin too), `admin` mutates. */
export interface Guards {
  read: Middleware;
  admin: Middleware;
}

export function adminRouter(deps: AdminDeps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const guards: Guards = { read: deps.requireRole('viewer'), admin: deps.requireRole('admin') };
  hostRoutes(r, deps, guards);
  packRoutes(r, deps, guards);
  queryRoutes(r, deps, guards);
  credentialRoutes(r, deps, guards);
  return r;
}
