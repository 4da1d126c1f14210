/**
 * The admin API (SPEC §7): role `admin` mutates, `viewer` reads. Handlers are thin: validate → call a
 * dependency → shape the answer. Every mutation is audited with its actor.
 */
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { CarveRepo, EnrollSecretRepo, HostRepo, ResultRepo, TokenRepo } from '../domain/ports.js';
import type { CheckState, Host, Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { isoOf } from '../shared/clock.js';
import { invalid, notFound } from '../shared/errors.js';
import type { Credentials } from '../control/credentials.js';
import type { HostOperations } from '../control/operations.js';
import type { PacksApi } from '../control/packs-api.js';
import { liveQueryBody, parseBody, policyBody, secretCreateBody, tokenCreateBody } from './schemas.js';

export interface HostSummary {
  /** Decision per resource, computed now from the precomputed verdicts. */
  decisions: Record<string, { decision: 'allow' | 'deny'; would_deny: boolean; reasons: string[] }>;
  failing: boolean;
}

export interface AdminDeps {
  hosts: Pick<HostRepo, 'list' | 'findBySerial' | 'details'>;
  results: Pick<ResultRepo, 'statusLogs' | 'latestForHost'>;
  checkStates(hostId: number): Promise<CheckState[]>;
  tokens: Pick<TokenRepo, 'list'>;
  secrets: Pick<EnrollSecretRepo, 'list'>;
  /** Creates and revokes tokens and enroll secrets, audited. */
  credentials: Credentials;
  carves: Pick<CarveRepo, 'list' | 'get' | 'data'>;
  summary(host: Host, now: number): HostSummary;
  recheck: HostOperations['recheck'];
  unenroll: HostOperations['unenroll'];
  packs: PacksApi['packs'];
  policy: PacksApi['policy'];
  liveQuery: HostOperations['liveQuery'];
  liveQueryResults: HostOperations['liveQueryResults'];
  requireRole: (...roles: Role[]) => Middleware;
  clock: Clock;
}

const actorOf = (ctx: Context): string => (ctx.state.actor as { name: string } | undefined)?.name ?? 'unknown';

function hostJson(h: Host) {
  return {
    serial: h.serial,
    hardware_uuid: h.hardwareUuid,
    hostname: h.hostname,
    platform: h.platform,
    os_platform: h.osPlatform,
    os_name: h.osName,
    os_version: h.osVersion,
    osquery_version: h.osqueryVersion,
    hardware_vendor: h.hardwareVendor,
    hardware_model: h.hardwareModel,
    host_identifier: h.hostIdentifier,
    enrolled_at: isoOf(h.enrolledAt),
    last_seen_at: isoOf(h.lastSeenAt),
    serial_conflict: h.serialConflict,
    enroll_secret: h.enrollSecretName,
  };
}

const stateJson = (s: CheckState) => ({
  check: s.checkId,
  status: s.status,
  message: s.message,
  observed: s.observed,
  error: s.error,
  observed_at: s.observedAt === null ? null : isoOf(s.observedAt),
  first_failed_at: s.firstFailedAt === null ? null : isoOf(s.firstFailedAt),
  last_passed_at: s.lastPassedAt === null ? null : isoOf(s.lastPassedAt),
});

function text(v: unknown, name: string, max = 256): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max)
    throw invalid(`query parameter "${name}" must be a string of at most ${max} characters`);
  return v;
}
function int(v: unknown, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw invalid(`query parameter "${name}" must be an integer between 0 and ${max}`);
  return n;
}

export function adminRouter(deps: AdminDeps): Router {
  const r = new Router({ prefix: '/api/v1' });
  const read = deps.requireRole('viewer');
  const admin = deps.requireRole('admin');

  async function oneHost(serial: string): Promise<Host> {
    const hosts = await deps.hosts.findBySerial(serial);
    if (!hosts.length) throw notFound(`host with serial "${serial}"`);
    return hosts[0]!;
  }

  // ── hosts
  r.get('/hosts', read, async (ctx) => {
    const q = ctx.query;
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
    let rows = hosts.map((h) => ({ host: h, summary: deps.summary(h, now) }));
    if (status) rows = rows.filter((x) => x.summary.failing === (status === 'failing')).slice(offset, offset + limit);
    ctx.body = {
      hosts: rows.map((x) => ({ ...hostJson(x.host), failing: x.summary.failing, decisions: x.summary.decisions })),
    };
  });
  r.get('/hosts/:serial', read, async (ctx) => {
    const hosts = await deps.hosts.findBySerial(ctx.params.serial!);
    if (!hosts.length) throw notFound(`host with serial "${ctx.params.serial}"`);
    const now = deps.clock.now();
    const out = [];
    for (const h of hosts) {
      out.push({
        ...hostJson(h),
        details: await deps.hosts.details(h.id),
        checks: (await deps.checkStates(h.id)).map(stateJson),
        decisions: deps.summary(h, now).decisions,
        status_logs: (await deps.results.statusLogs(h.id, 50)).map((s) => ({ ...s, received_at: isoOf(s.receivedAt) })),
      });
    }
    ctx.body = hosts.length === 1 ? { host: out[0] } : { host: out[0], conflicting_hosts: out };
  });
  r.get('/hosts/:serial/results', read, async (ctx) => {
    const h = await oneHost(ctx.params.serial!);
    const query = text(ctx.query.query, 'query', 1024);
    const latest = (await deps.results.latestForHost(h.id)).filter((l) => query === undefined || l.queryKey === query);
    ctx.body = {
      serial: h.serial,
      results: latest.map((l) => ({
        query: l.queryKey,
        rows: l.rows,
        observed_at: isoOf(l.observedAt),
        epoch: l.epoch,
        counter: l.counter,
        error: l.error,
        updated_at: isoOf(l.updatedAt),
      })),
    };
  });
  r.get('/hosts/:serial/status-logs', read, async (ctx) => {
    const h = await oneHost(ctx.params.serial!);
    const limit = int(ctx.query.limit, 'limit', 100, 10_000);
    ctx.body = {
      serial: h.serial,
      status_logs: (await deps.results.statusLogs(h.id, limit)).map((s) => ({
        ...s,
        received_at: isoOf(s.receivedAt),
      })),
    };
  });
  r.post('/hosts/:serial/recheck', admin, async (ctx) => {
    await oneHost(ctx.params.serial!);
    const out = await deps.recheck(ctx.params.serial!, actorOf(ctx));
    ctx.status = 202;
    ctx.body = { serial: ctx.params.serial, queued: out.queued };
  });
  r.delete('/hosts/:serial', admin, async (ctx) => {
    await oneHost(ctx.params.serial!);
    const n = await deps.unenroll(ctx.params.serial!, actorOf(ctx));
    ctx.body = { serial: ctx.params.serial, unenrolled: n };
  });

  // ── packs
  r.get('/packs', read, (ctx) => {
    ctx.body = { packs: deps.packs.list() };
  });
  r.get('/packs/:name', read, (ctx) => {
    const p = deps.packs.get(ctx.params.name!);
    if (p === undefined) throw notFound(`pack "${ctx.params.name}"`);
    ctx.body = p;
  });
  r.put('/packs/:name', admin, async (ctx) => {
    const body = ctx.request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw invalid('send the pack as a JSON object in osquery pack format');
    const out = await deps.packs.put(ctx.params.name!, JSON.stringify(body, null, 2), actorOf(ctx));
    ctx.body = { name: ctx.params.name, checks: out.checks };
  });
  r.delete('/packs/:name', admin, async (ctx) => {
    await deps.packs.remove(ctx.params.name!, actorOf(ctx));
    ctx.status = 204;
  });

  // ── policy
  r.get('/policy', read, (ctx) => {
    ctx.body = deps.policy.get();
  });
  const policyText = (body: unknown): { text: string; format: 'yaml' | 'json' } => {
    if (typeof body === 'object' && body !== null && !('text' in body) && !('policy' in body))
      return { text: JSON.stringify(body), format: 'json' };
    const b = parseBody(policyBody, body, 'policy body');
    return b.text !== undefined
      ? { text: b.text, format: b.format ?? 'yaml' }
      : { text: JSON.stringify(b.policy), format: 'json' };
  };
  r.put('/policy', admin, async (ctx) => {
    const p = policyText(ctx.request.body);
    await deps.policy.put(p.text, p.format, actorOf(ctx));
    ctx.body = deps.policy.get();
  });
  r.post('/policy/dry-run', read, (ctx) => {
    const p = policyText(ctx.request.body);
    ctx.body = deps.policy.dryRun(p.text, p.format);
  });

  // ── live queries
  r.post('/queries', admin, async (ctx) => {
    const b = parseBody(liveQueryBody, ctx.request.body, 'live query');
    const out = await deps.liveQuery(b, actorOf(ctx));
    ctx.status = 201;
    ctx.body = out;
  });
  r.get('/queries/:id', read, async (ctx) => {
    ctx.body = await deps.liveQueryResults(ctx.params.id!);
  });

  // ── carves
  r.get('/carves', read, async (ctx) => {
    ctx.body = {
      carves: (await deps.carves.list()).map((c) => ({
        ...c,
        createdAt: isoOf(c.createdAt),
        completedAt: c.completedAt === null ? null : isoOf(c.completedAt),
      })),
    };
  });
  r.get('/carves/:session/data', admin, async (ctx) => {
    const c = await deps.carves.get(ctx.params.session!);
    if (!c) throw notFound('carve');
    const data = await deps.carves.data(c.sessionId);
    if (!data) throw invalid(`carve incomplete: ${c.blocksReceived}/${c.blockCount} blocks received`);
    const zstd = data.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    ctx.type = 'application/octet-stream';
    ctx.attachment(`${c.carveId}.tar${zstd ? '.zst' : ''}`);
    ctx.body = data;
  });

  // ── enroll secrets
  r.get('/enroll-secrets', read, async (ctx) => {
    ctx.body = {
      secrets: (await deps.secrets.list()).map((s) => ({
        name: s.name,
        created_at: isoOf(s.createdAt),
        expires_at: s.expiresAt === null ? null : isoOf(s.expiresAt),
        revoked_at: s.revokedAt === null ? null : isoOf(s.revokedAt),
      })),
    };
  });
  r.post('/enroll-secrets', admin, async (ctx) => {
    const b = parseBody(secretCreateBody, ctx.request.body, 'enroll secret');
    const input = { name: b.name, ...(b.expires_in ? { expiresIn: b.expires_in } : {}) };
    const { secret, record } = await deps.credentials.createEnrollSecret(input, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { name: record.name, secret, expires_at: record.expiresAt === null ? null : isoOf(record.expiresAt) };
  });
  r.delete('/enroll-secrets/:name', admin, async (ctx) => {
    await deps.credentials.revokeEnrollSecret(ctx.params.name ?? '', actorOf(ctx));
    ctx.status = 204;
  });

  // ── API tokens
  r.get('/tokens', admin, async (ctx) => {
    ctx.body = {
      tokens: (await deps.tokens.list()).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        created_at: isoOf(t.createdAt),
        revoked_at: t.revokedAt === null ? null : isoOf(t.revokedAt),
        last_used_at: t.lastUsedAt === null ? null : isoOf(t.lastUsedAt),
      })),
    };
  });
  r.post('/tokens', admin, async (ctx) => {
    const b = parseBody(tokenCreateBody, ctx.request.body, 'token');
    const { token, record } = await deps.credentials.createToken({ name: b.name, role: b.role }, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { id: record.id, name: record.name, role: record.role, token };
  });
  r.delete('/tokens/:id', admin, async (ctx) => {
    await deps.credentials.revokeToken(ctx.params.id ?? '', actorOf(ctx));
    ctx.status = 204;
  });
  return r;
}
