/**
 * Test harness for the people's side (the remediation page) and break glass: the real SQLite store (temp
 * dir), the real audit and break-glass services, the real posture engine, and the real koa app (its error
 * boundary and the page's failure rendering) with the page, break-glass and audit routers.
 *
 * A device's standing is set as the warm start loads it: check states are stored, then the engine loads
 * the host from the stored columns (PostureEngine.loadHosts), so a test can put a check in any state at
 * any time. Fakes are left only where a test injects behaviour: the recheck queue (records calls, can
 * fail), bearer auth (`Bearer admin|viewer|gateway`) and the webhook.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Middleware } from 'koa';
import { createAuditService, type AuditService } from '../../server/audit/service.js';
import { auditRouter } from '../../server/audit/routes.js';
import { breakGlassRouter } from '../../server/breakglass/routes.js';
import { createBreakGlassService, type BreakGlassService } from '../../server/breakglass/service.js';
import type { WebhookNotifier } from '../../server/breakglass/webhook.js';
import type { Store } from '../../server/domain/ports.js';
import type { BreakGlassGrant, CheckDef, CheckState, Host, Policy, Role } from '../../server/domain/types.js';
import { createApp } from '../../server/http/app.js';
import { signDeviceLink, verifyDeviceLink } from '../../server/people/link.js';
import { createPeoplePages } from '../../server/people/routes.js';
import { createPeopleService, type PeopleDeps, type PeopleService } from '../../server/people/service.js';
import type { PeopleVerdict } from '../../server/people/view.js';
import { createPostureEngine, type PostureEngine } from '../../server/posture/engine.js';
import { ManualClock } from '../../server/shared/clock.js';
import { AppError } from '../../server/shared/errors.js';
import { silentLogger } from '../../server/shared/log.js';
import { createMetrics } from '../../server/shared/metrics.js';
import { createSqliteStore } from '../../server/store/index.js';

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
      'prod-db': {
        name: 'prod-db',
        tier: 'high',
        mode: 'enforce',
        hosts: ['db.internal.example.com'],
        title: 'Production database',
      },
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
  {
    id: 'disk_encryption',
    pack: 'posture',
    sql: 'select 1',
    intervalSeconds: 300,
    snapshot: true,
    title: 'Disk encryption is on',
    message: 'Turn on FileVault.',
    remediationUrl: 'https://support.apple.com/guide/mac-help/filevault',
    severity: 'high',
  },
  {
    id: 'firewall',
    pack: 'posture',
    sql: 'select 1',
    intervalSeconds: 300,
    snapshot: true,
    title: 'Firewall is on',
    failTitle: 'Firewall is off',
    message: 'Turn on the firewall:\n1. Open System Settings\n2. Network → Firewall\n3. Switch it on',
    remediationUrl: 'https://support.apple.com/guide/mac-help/firewall',
    severity: 'high',
  },
  {
    id: 'os_version',
    pack: 'posture',
    sql: 'select 1',
    intervalSeconds: 300,
    snapshot: true,
    title: 'macOS is up to date',
    failTitle: 'macOS needs an update',
    message: 'Your macOS is 12.1; we need 14.4 or later.',
    severity: 'medium',
  },
  {
    id: 'osquery_healthy',
    pack: 'posture',
    sql: 'select 1',
    intervalSeconds: 300,
    snapshot: true,
    title: 'Device agent is healthy',
    message: 'Restart the agent.',
    severity: 'low',
  },
];
const CHECK_IDS = CHECKS.map((c) => c.id);

/** A device as it enrolls (the store assigns the id). */
export function makeHost(serial = 'C02XX'): Omit<Host, 'id'> {
  return {
    serial,
    hardwareUuid: `uuid-${serial}`,
    hostIdentifier: `${serial}-id`,
    hostname: 'alice-mbp',
    platform: 'darwin',
    osPlatform: 'darwin',
    osName: 'macOS',
    osVersion: '14.5',
    osqueryVersion: '5.12.0',
    hardwareVendor: 'Apple Inc.',
    hardwareModel: 'MacBook Pro',
    enrolledAt: START - 86_400_000,
    lastSeenAt: START - 60_000,
    serialConflict: false,
    enrollSecretName: 'default',
    enrollState: 'active',
    pendingReason: null,
    cert: null,
  };
}

export interface Harness {
  dir: string;
  store: Store;
  clock: ManualClock;
  policy: Policy;
  engine: PostureEngine;
  audit: AuditService;
  breakGlass: BreakGlassService;
  /** The grant overlay as the break-glass service drives it (the engine gets the same calls). */
  grants: Map<string, BreakGlassGrant>;
  people: PeopleService;
  deps: PeopleDeps;
  url: string;
  /** The recheck queue's fake: what the page queued; set `fails` to make queueing fail. */
  queue: { rechecks: Array<{ serial: string; actor: string }>; fails: boolean };
  /** Enrolls a device (stored, then loaded into the engine); the first gets id 1. */
  addHost(h: Omit<Host, 'id'>): Promise<Host>;
  /** Puts one check of a device in a state, as stored check states load (message: the check's own by default). */
  setState(hostId: number, checkId: string, status: CheckState['status'], at: number, message?: string): Promise<void>;
  /** The verdict the gateway would give now. */
  verdict(serial: string, resource: string, user: string): PeopleVerdict | undefined;
  link(over?: Partial<{ serial: string; user: string; resource: string; expiresAt: number }>): string;
  close(): Promise<void>;
}

/** Fake requireRole: `Authorization: Bearer admin|viewer|gateway` authenticates as that role. */
export const fakeRequireRole =
  (...roles: Role[]): Middleware =>
  async (ctx, next) => {
    const m = /^Bearer (admin|viewer|gateway)$/.exec(ctx.get('authorization'));
    const role = m?.[1];
    if (role !== 'admin' && role !== 'viewer' && role !== 'gateway') {
      throw new AppError('unauthenticated', 'missing or unknown token');
    }
    if (!roles.includes(role)) throw new AppError('forbidden', `role ${role} may not do this`);
    ctx.state.actor = { name: `${role}-token`, role };
    await next();
  };

export async function startHarness(
  opts: { policy?: Policy; webhook?: WebhookNotifier; live?: boolean } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-people-'));
  const store = createSqliteStore(path.join(dir, 'test.db'), { durableFsync: false });
  const clock = new ManualClock(START);
  const policy = opts.policy ?? makePolicy();
  const log = silentLogger();
  const engine = createPostureEngine({ clock, log });
  engine.setPolicy(policy, CHECKS, () => true);
  const grants = new Map<string, BreakGlassGrant>();
  const audit = createAuditService({ repo: store.audit, clock, log });
  let n = 0;
  const breakGlass = createBreakGlassService({
    repo: store.breakGlass,
    audit,
    clock,
    log,
    policy: () => policy,
    grants: {
      add: (g) => {
        grants.set(g.id, g);
        engine.addGrant(g);
      },
      remove: (id) => {
        grants.delete(id);
        engine.removeGrant(id);
      },
    },
    deviceKnown: async (serial) => (await store.hosts.findBySerial(serial)).length > 0,
    newId: () => `bg_${++n}`,
    ...(opts.webhook ? { webhook: opts.webhook } : {}),
  });

  const queue: Harness['queue'] = { rechecks: [], fails: false };
  const verdict = (serial: string, resource: string, user: string): PeopleVerdict | undefined => {
    const v = engine.verdict(serial, resource, user, clock.now());
    return v.kind === 'verdict' ? v.verdict : undefined;
  };
  const deps: PeopleDeps = {
    verdict,
    hostBySerial: async (serial) => (await store.hosts.findBySerial(serial))[0],
    tierReport: (serial, tier, now) => engine.tierReport(serial, tier, now),
    recheck: async (serial, actor) => {
      if (queue.fails) throw new Error('queue down');
      queue.rechecks.push({ serial, actor });
      const host = (await store.hosts.findBySerial(serial))[0];
      const states = host ? await store.checkStates.forHost(host.id) : [];
      return {
        queued: states
          .filter((s) => s.status !== 'pass')
          .map((s) => s.checkId)
          .sort(),
      };
    },
    breakGlass,
    clock,
    log,
    hmacKey: HMAC_KEY,
    publicUrl: 'https://trustgate.test',
    policy: () => policy,
    help: { text: 'Ask #it-help on Slack', url: 'https://help.example.com/device' },
    livePollMs: opts.live ? 50 : 1000,
  };
  const people = createPeopleService(deps);
  const pages = createPeoplePages(deps, people);
  const app = createApp({
    log,
    metrics: createMetrics({ defaults: false }),
    maxBodyBytes: 1024 * 1024,
    ready: async () => true,
    pages: pages.failures,
    routers: [
      auditRouter({ audit }, fakeRequireRole),
      breakGlassRouter({ breakGlass, verifyLink: (t) => verifyDeviceLink(t, HMAC_KEY, clock.now()) }, fakeRequireRole),
      pages.router,
    ],
  });
  const callback = app.callback();
  const server = http.createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  /** Loads a stored device into the engine from the stored check-state columns (the warm start's path). */
  const load = async (host: Host) => engine.loadHosts([host], await store.checkStates.columns(CHECK_IDS), CHECK_IDS);

  return {
    dir,
    store,
    clock,
    policy,
    engine,
    audit,
    breakGlass,
    grants,
    people,
    deps,
    queue,
    verdict,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async addHost(host) {
      const { cert: _cert, ...facts } = host;
      const record = {
        ...facts,
        details: {},
        nodeKeyHash: `key-${host.serial}`,
        at: host.enrolledAt,
        state: host.enrollState,
        pendingReason: host.pendingReason,
      };
      const { host: enrolled } = await store.hosts.enroll(record);
      await load(enrolled);
      return enrolled;
    },
    async setState(hostId, checkId, status, observedAt, message) {
      const host = await store.hosts.get(hostId);
      if (!host) throw new Error(`no host ${hostId}: addHost first`);
      const prev = (await store.checkStates.forHost(hostId)).find((s) => s.checkId === checkId);
      await store.checkStates.putMany([
        {
          hostId,
          checkId,
          status,
          observed: [],
          message: message ?? CHECKS.find((c) => c.id === checkId)?.message ?? '',
          observedAt,
          firstFailedAt: status === 'fail' ? (prev?.firstFailedAt ?? observedAt) : null,
          lastPassedAt: status === 'pass' ? observedAt : (prev?.lastPassedAt ?? null),
          error: status === 'error' ? 'boom' : null,
          resultSeq: null,
        },
      ]);
      await load(host);
    },
    link: (over = {}) =>
      signDeviceLink(
        {
          serial: over.serial ?? 'C02XX',
          user: over.user ?? 'alice@example.com',
          resource: over.resource ?? 'prod-db',
        },
        HMAC_KEY,
        over.expiresAt ?? clock.now() + 30 * 60_000,
      ),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Form-encoded POST without following redirects. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The hidden csrf value of the page's forms. */
export function csrfOf(page: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(page);
  if (!m?.[1]) throw new Error('no csrf field on the page');
  return m[1];
}
