/**
 * Test harness for the people area: real SQLite repos (temp dir), real audit + break-glass services, and a
 * small fake posture engine (check states in memory, verdicts computed from them, a break-glass overlay).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Middleware } from 'koa';
import { createAuditService, type AuditService } from '../../server/audit/service.js';
import { auditRouter } from '../../server/audit/routes.js';
import type { BreakGlassGrant, CheckDef, CheckState, Host, Policy, Role } from '../../server/domain/types.js';
import { createBreakGlassService, type BreakGlassService } from '../../server/breakglass/service.js';
import { signDeviceLink } from '../../server/people/link.js';
import { breakGlassRouter, peopleRouter } from '../../server/people/routes.js';
import { createPeopleService, type PeopleDeps, type PeopleService, type PeopleVerdict } from '../../server/people/service.js';
import type { WebhookNotifier } from '../../server/breakglass/webhook.js';
import { ManualClock } from '../../server/shared/clock.js';
import { AppError, isAppError } from '../../server/shared/errors.js';
import { silentLogger } from '../../server/shared/log.js';
import { createAuditRepo } from '../../server/store/audit.js';
import { createBreakGlassRepo } from '../../server/store/break-glass.js';
import { openSqlite, type Opened } from '../../server/store/open.js';

export const HMAC_KEY = 'test-hmac-key-0123456789abcdef';
export const START = Date.UTC(2026, 10, 27, 14, 0, 0);

export function makePolicy(over: Partial<Policy['breakGlass']> = {}): Policy {
  return {
    tiers: {
      high: { name: 'high', maxAgeMs: 15 * 60_000, checks: ['disk_encryption', 'firewall', 'os_version'] },
      medium: { name: 'medium', maxAgeMs: 3_600_000, checks: ['disk_encryption', 'firewall'] },
      low: { name: 'low', maxAgeMs: 86_400_000, checks: ['osquery_healthy'] },
      crit: { name: 'crit', maxAgeMs: 15 * 60_000, checks: ['firewall'] },
    },
    resources: {
      'prod-db': { name: 'prod-db', tier: 'high', mode: 'enforce', hosts: ['db.internal.example.com'], title: 'Production database' },
      wiki: { name: 'wiki', tier: 'medium', mode: 'enforce', hosts: [] },
      docs: { name: 'docs', tier: 'low', mode: 'monitor', hosts: [] },
      vault: { name: 'vault', tier: 'crit', mode: 'enforce', hosts: [] },
    },
    breakGlass: {
      maxDurationMs: 4 * 3_600_000,
      limit: { count: 3, windowMs: 30 * 86_400_000 },
      approval: { low: 'none', medium: 'none', high: 'required', crit: 'never' },
      ...over,
    },
    source: {},
  };
}

export const CHECKS: CheckDef[] = [
  { id: 'disk_encryption', pack: 'posture', sql: 'select 1', intervalSeconds: 300, snapshot: true, title: 'Disk encryption is on', message: 'Turn on FileVault.', remediationUrl: 'https://support.apple.com/guide/mac-help/filevault', severity: 'high' },
  { id: 'firewall', pack: 'posture', sql: 'select 1', intervalSeconds: 300, snapshot: true, title: 'Firewall is on', message: 'Turn on the firewall:\n1. Open System Settings\n2. Network → Firewall\n3. Switch it on', remediationUrl: 'https://support.apple.com/guide/mac-help/firewall', severity: 'high' },
  { id: 'os_version', pack: 'posture', sql: 'select 1', intervalSeconds: 300, snapshot: true, title: 'macOS is up to date', message: 'Your macOS is {{version}}; we need 14.4 or later.', severity: 'medium' },
  { id: 'osquery_healthy', pack: 'posture', sql: 'select 1', intervalSeconds: 300, snapshot: true, title: 'Device agent is healthy', message: 'Restart the agent.', severity: 'low' },
];

export function makeHost(serial = 'C02XX', id = 1): Host {
  return {
    id, serial, hardwareUuid: `uuid-${serial}`, hostIdentifier: `${serial}-id`, hostname: 'alice-mbp', platform: 'darwin',
    osPlatform: 'darwin', osName: 'macOS', osVersion: '14.5', osqueryVersion: '5.12.0', hardwareVendor: 'Apple Inc.',
    hardwareModel: 'MacBook Pro', enrolledAt: START - 86_400_000, lastSeenAt: START - 60_000, serialConflict: false, enrollSecretName: 'default',
  };
}

/** A fake posture engine: check states per host, verdicts computed from them, plus the grant overlay. */
export class FakeEngine {
  hosts = new Map<string, Host>();
  states = new Map<number, Map<string, CheckState>>();
  grants = new Map<string, BreakGlassGrant>();
  rechecks: Array<{ serial: string; actor: string }> = [];
  recheckFails = false;
  constructor(private policy: () => Policy) {}

  addHost(h: Host): void { this.hosts.set(h.serial, h); this.states.set(h.id, new Map()); }
  setState(hostId: number, checkId: string, status: CheckState['status'], observedAt: number, message = ''): void {
    const m = this.states.get(hostId) ?? new Map<string, CheckState>();
    const prev = m.get(checkId);
    m.set(checkId, {
      hostId, checkId, status, observed: [], message, observedAt,
      firstFailedAt: status === 'fail' ? (prev?.firstFailedAt ?? observedAt) : null,
      lastPassedAt: status === 'pass' ? observedAt : (prev?.lastPassedAt ?? null), error: status === 'error' ? 'boom' : null, resultSeq: null,
    });
    this.states.set(hostId, m);
  }
  tierChecks(resource: string): CheckDef[] {
    const res = this.policy().resources[resource];
    const tier = res ? this.policy().tiers[res.tier] : undefined;
    return CHECKS.filter((c) => tier?.checks.includes(c.id));
  }
  verdict(serial: string, resource: string, user: string, now: number): PeopleVerdict | undefined {
    const policy = this.policy();
    const res = policy.resources[resource];
    if (!res) return undefined;
    const tier = policy.tiers[res.tier];
    const host = this.hosts.get(serial);
    const grant = [...this.grants.values()].find((g) => g.serial === serial && g.user === user && g.tier === res.tier && (g.expiresAt ?? 0) > now);
    const bg = grant ? { id: grant.id, expires_at: new Date(grant.expiresAt ?? 0).toISOString(), reason: grant.reason } : null;
    if (!host || !tier) return { decision: bg ? 'allow' : 'deny', reasons: [{ check: 'unknown_device', status: 'missing' }], break_glass: bg };
    const reasons = [];
    for (const def of this.tierChecks(resource)) {
      const st = this.states.get(host.id)?.get(def.id);
      const status = !st ? 'missing' : st.status !== 'pass' ? st.status : (st.observedAt ?? 0) < now - tier.maxAgeMs ? 'stale' : 'pass';
      if (status !== 'pass') reasons.push({ check: def.id, status, title: def.title, message: st?.message || def.message, observed_at: st?.observedAt ? new Date(st.observedAt).toISOString() : null });
    }
    const wouldDeny = reasons.length > 0;
    const decision = bg || !wouldDeny || res.mode === 'monitor' ? 'allow' : 'deny';
    return { decision, enforced: res.mode === 'enforce', would_deny: res.mode === 'monitor' && wouldDeny, tier: res.tier, reasons, break_glass: bg };
  }
}

export interface Harness {
  dir: string;
  opened: Opened;
  clock: ManualClock;
  policy: Policy;
  engine: FakeEngine;
  audit: AuditService;
  breakGlass: BreakGlassService;
  people: PeopleService;
  deps: PeopleDeps;
  url: string;
  link(over?: Partial<{ serial: string; user: string; resource: string; expiresAt: number }>): string;
  close(): Promise<void>;
}

/** Fake requireRole: `Authorization: Bearer admin|viewer|gateway` authenticates as that role. */
export const fakeRequireRole = (...roles: Role[]): Middleware => async (ctx, next) => {
  const m = /^Bearer (admin|viewer|gateway)$/.exec(ctx.get('authorization'));
  if (!m) throw new AppError('unauthenticated', 'missing or unknown token');
  const role = m[1] as Role;
  if (!roles.includes(role)) throw new AppError('forbidden', `role ${role} may not do this`);
  ctx.state.actor = { name: `${role}-token`, role };
  await next();
};

const STATUS: Record<string, number> = { invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409, too_large: 413, unavailable: 503 };

export async function startHarness(opts: { policy?: Policy; webhook?: WebhookNotifier; live?: boolean } = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-people-'));
  const opened = openSqlite(path.join(dir, 'test.db'));
  const clock = new ManualClock(START);
  const policy = opts.policy ?? makePolicy();
  const log = silentLogger();
  const engine = new FakeEngine(() => policy);
  const audit = createAuditService({ repo: createAuditRepo(opened.db), clock, log });
  let n = 0;
  const breakGlass = createBreakGlassService({
    repo: createBreakGlassRepo(opened.db), audit, clock, log, policy: () => policy,
    grants: { add: (g) => engine.grants.set(g.id, g), remove: (id) => engine.grants.delete(id) },
    deviceKnown: (serial) => engine.hosts.has(serial),
    newId: () => `bg_${++n}`,
    ...(opts.webhook ? { webhook: opts.webhook } : {}),
  });
  const deps: PeopleDeps = {
    verdict: (s, r, u, now) => engine.verdict(s, r, u, now),
    hostBySerial: (s) => engine.hosts.get(s),
    checkStates: (id) => [...(engine.states.get(id)?.values() ?? [])],
    tierChecks: (r) => engine.tierChecks(r),
    recheck: async (serial, actor) => {
      if (engine.recheckFails) throw new Error('queue down');
      engine.rechecks.push({ serial, actor });
      const host = engine.hosts.get(serial);
      const failing = [...(host ? engine.states.get(host.id)?.values() ?? [] : [])].filter((s) => s.status !== 'pass').map((s) => s.checkId);
      return { queued: failing };
    },
    breakGlass, clock, log, hmacKey: HMAC_KEY, publicUrl: 'https://trustgate.test', policy: () => policy,
    help: { text: 'Ask #it-help on Slack', url: 'https://help.example.com/device' },
    livePollMs: opts.live ? 50 : 1000,
  };
  const people = createPeopleService(deps);
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      ctx.status = isAppError(e) ? STATUS[e.code] ?? 500 : 500;
      ctx.body = { error: { code: isAppError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) } };
    }
  });
  for (const r of [peopleRouter(deps, people), breakGlassRouter(deps, fakeRequireRole), auditRouter({ audit }, fakeRequireRole)]) {
    app.use(r.routes()).use(r.allowedMethods());
  }
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dir, opened, clock, policy, engine, audit, breakGlass, people, deps, url,
    link: (over = {}) => signDeviceLink({ serial: over.serial ?? 'C02XX', user: over.user ?? 'alice', resource: over.resource ?? 'prod-db' }, HMAC_KEY, over.expiresAt ?? clock.now() + 30 * 60_000),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      opened.sqlite.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Form-encoded POST without following redirects. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

/** The hidden csrf value of the page's forms. */
export function csrfOf(page: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(page);
  if (!m?.[1]) throw new Error('no csrf field on the page');
  return m[1];
}
