/**
 * Composition root: the only place that wires concrete objects together.
 *
 *   osquery agent ──HTTPS──▶ osquery/handler ─▶ osquery/service ─▶ store.results.ingestBatch (durable)
 *                                                 │        │
 *                    distributed/read, /write     │        ▼
 *   control/work (pending queries, attention) ◀───┘   control/evaluation.onResults ─▶ posture engine
 *      ▲ enqueue, attend                                   │                        (in-memory verdicts)
 *   control/operations: recheck, live query,       check states (write-behind),           ▲
 *   unenroll (drops the node key), page view       decision changes (audit)               │ map lookup
 *                                                                                          │
 *   gateway (nginx/Caddy) ──HTTPS──▶ gateway/handler ─────────────────────────────────────┘
 *
 * Everything is built once, in dependency order, from what was built before it (nothing is bound late).
 * startServer runs the phases in that order (the first three in phases.ts, the rest below):
 *   openFoundation  logger, metrics, TLS files, store → audit → bootstrap (secrets, link key, admin token)
 *   startControl    work + node-key cache → control plane (control/plane.ts: engine → evaluation → runtime
 *                   model, startup reload → warm start → operations) → packs API
 *   startDevices    device CA, certificates (revocation set), device service (pending, inventory, sync)
 *   startAccess     osquery service → auth, credentials, break glass (loaded, sweeping) → gateway verdicts
 *   buildHandlers   people pages, the koa app (admin, audit, break-glass, people routes), the bare
 *                   gateway and osquery handlers in front of it
 *   listen          the HTTPS server (asking for client certificates in the certificate enrollment modes)
 *   startTimers     last-seen flush, work sync, device sync, packs reload (file watch, SIGHUP), retention
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from './config/load.js';
import type { Store } from './domain/ports.js';
import { allocatorOf } from './shared/allocator.js';
import { type Logger } from './shared/log.js';
import { type Clock } from './shared/clock.js';
import { type TlsFiles } from './http/tls.js';
import { createApp } from './http/app.js';
import { listenHttps, listenMetrics } from './http/listener.js';
import { createTokenAuth } from './http/auth.js';
import { authFailuresFromSettings } from './shared/auth-failures.js';
import { createOsqueryService } from './osquery/service.js';
import { createOsqueryHandler } from './osquery/handler.js';
import { createGatewayHandler } from './gateway/handler.js';
import { failureRenderer } from './http/errors.js';
import { adminRouter } from './admin/routes.js';
import { watchPacksDir } from './control/model.js';
import { createCredentials } from './control/credentials.js';
import { createHostSummary } from './control/summary.js';
import { createRetention } from './control/retention.js';
import { firstStartBanner, sharedSettings } from './cli/banner.js';
import { auditRouter } from './audit/routes.js';
import { startHeadPublisher } from './audit/publish.js';
import { createBreakGlassService } from './breakglass/service.js';
import { deviceRouter, deviceCaRouter } from './admin/devices.js';
import { devicePeopleRouter } from './admin/people.js';
import { breakGlassRouter } from './breakglass/routes.js';
import { verifyDeviceLink } from './people/link.js';
import { createPeoplePages } from './people/routes.js';
import { withRemediationLinks } from './people/verdict-links.js';
import {
  openFoundation,
  startControl,
  startDevices,
  type Control,
  type DevicesPhase,
  type Foundation,
} from './phases.js';

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** Where the first-start banner (where the secrets are, next steps) goes; default stderr. */
  print?: (text: string) => void;
  /**
   * Whether `print` reaches a person at a terminal: only then does the banner show the admin token (it
   * is always in data/admin_token, 0600). Default: stderr is a TTY when `print` is not given, else false.
   */
  terminal?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  config: Readonly<Config>;
  store: Store;
  caFile: string | undefined;
  /** The port of the separate metrics listener (TRUSTGATE_METRICS_LISTEN), when there is one. */
  metricsPort: number | undefined;
  enrollSecretFile: string;
  adminToken: string | undefined;
  /** Stops serving and flushes what is buffered; `reason` (e.g. the signal) is logged. */
  stop(reason?: string): Promise<void>;
}

type Access = Awaited<ReturnType<typeof startAccess>>;

/** Who gets in: the osquery service (node keys), API tokens and credentials, break glass, gateway verdicts. */
async function startAccess(config: Readonly<Config>, foundation: Foundation, control: Control, dev: DevicesPhase) {
  const { clock, log, metrics, store, audit, boot } = foundation;
  const { engine, evaluation, model, work, nodeKeys, ops } = control;
  const osq = createOsqueryService({
    hosts: store.hosts,
    secrets: store.secrets,
    inventory: store.inventory,
    rejections: store.rejections,
    revoked: dev.certs.revoked,
    enrollment: { mode: config.enrollMode, unknown: config.enrollUnknown, pendingMax: config.pendingMax },
    devices: dev.service,
    results: store.results,
    work,
    nodeKeys,
    lastSeen: control.lastSeen,
    carves: store.carves,
    sentQueries: store.distributed,
    // a block's base64 must fit one request body
    carveLimits: { maxCarveBytes: config.carveMaxBytes, maxBlockBytes: Math.floor((config.maxBodyBytes * 3) / 4) },
    configFor: model.configFor,
    queryKeyOf: model.queryKeyOf,
    checkQueryKey: model.checkQueryKey,
    isScheduled: model.isScheduled,
    onResults: (host, latest) => {
      control.people.observe(host, latest);
      dev.certIndex.index.onResults(host, latest);
      return evaluation.onResults(host, latest);
    },
    onEnrolled: (host, reenrolled) => {
      dev.certIndex.index.noteHost(host);
      return ops.enrolled(host, reenrolled);
    },
    clock,
    log,
    metrics,
  });
  // failed authentications, limited per client address and per presented credential (README "Security notes")
  const failures = authFailuresFromSettings(config, clock);
  const auth = createTokenAuth({ tokens: store.tokens, clock, failures });
  const credentials = createCredentials({
    tokens: store.tokens,
    secrets: store.secrets,
    audit,
    clock,
    tokenRevoked: auth.invalidate,
    unenrollBySecret: dev.service.unenrollBySecret,
  });
  const breakGlass = createBreakGlassService({
    repo: store.breakGlass,
    audit,
    clock,
    log,
    grants: { add: (g) => engine.addGrant(g), remove: (id) => engine.removeGrant(id) },
    policy: () => engine.policy() ?? model.policy(),
    deviceKnown: async (serial) => (await store.hosts.findBySerial(serial)).length > 0,
    webhook: dev.webhook,
  });
  await breakGlass.load();
  breakGlass.start();
  const verdicts = withRemediationLinks(engine, {
    key: boot.linkKey,
    publicUrl: config.publicUrl,
    ttlMs: config.linkTtlSeconds * 1000,
    noteUse: (id) => breakGlass.noteUse(id),
  });
  return { osq, auth, credentials, breakGlass, verdicts, failures };
}

/** The remediation page's routes and its failure rendering. */
function buildPeople(config: Readonly<Config>, foundation: Foundation, control: Control, access: Access) {
  const { clock, log, metrics, store, boot } = foundation;
  const { engine, model, ops } = control;
  return createPeoplePages({
    verdict: (serial, resource, user, now) => {
      const v = engine.verdict(serial, resource, user, now);
      return v.kind === 'verdict' ? v.verdict : undefined;
    },
    hostBySerial: async (serial) => (await store.hosts.findBySerial(serial))[0],
    tierReport: (serial, tier, now) => engine.tierReport(serial, tier, now),
    recheck: ops.recheck,
    devicePeople: (serial) => control.people.peopleOf(serial).map((p) => p.person),
    // while a person has the page open, the agent polls every 5 s (10 minutes from the last view)
    onPageView: (serial) => void ops.pageViewed(serial),
    breakGlass: access.breakGlass,
    clock,
    log,
    hmacKey: boot.linkKey,
    publicUrl: config.publicUrl,
    policy: () => model.policy(),
    onLiveRender: () => metrics.liveRenders.inc(),
    ...(config.helpText || config.helpUrl
      ? {
          help: {
            ...(config.helpText ? { text: config.helpText } : {}),
            ...(config.helpUrl ? { url: config.helpUrl } : {}),
          },
        }
      : {}),
  });
}

/** One request listener: the bare gateway and osquery handlers first (the hot paths), then the koa app. */
function buildHandlers(
  config: Readonly<Config>,
  foundation: Foundation,
  control: Control,
  access: Access,
  dev: DevicesPhase,
) {
  const { clock, log, metrics, store, audit, boot } = foundation;
  const { engine, model, ops, packsApi } = control;
  const { auth, breakGlass } = access;
  const people = buildPeople(config, foundation, control, access);
  const admin = adminRouter({
    hosts: store.hosts,
    results: store.results,
    checkStates: (id) => store.checkStates.forHost(id),
    tokens: store.tokens,
    secrets: store.secrets,
    credentials: access.credentials,
    carves: store.carves,
    summary: createHostSummary({ engine, model }),
    checks: () => model.checks(),
    lastSeen: (h) => control.lastSeen.of(h),
    recheck: ops.recheck,
    unenroll: ops.unenroll,
    packs: packsApi.packs,
    policy: packsApi.policy,
    liveQuery: ops.liveQuery,
    liveQueryResults: ops.liveQueryResults,
    requireRole: auth.requireRole,
    clock,
  });
  const verifyLink = (token: unknown) => verifyDeviceLink(token, boot.linkKey, clock.now());
  const koa = createApp({
    log,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    ready: () => store.ping(),
    pages: people.failures,
    metricsRoute: config.metricsListen ? false : { token: config.metricsToken },
    routers: [
      admin,
      auditRouter({ audit }, auth.requireRole),
      breakGlassRouter({ breakGlass, verifyLink }, auth.requireRole),
      deviceRouter(
        { devices: dev.service, certs: dev.certs, store, ca: dev.ca, mode: config.enrollMode },
        auth.requireRole,
      ),
      deviceCaRouter({ certs: dev.certs, ca: dev.ca }),
      devicePeopleRouter({ people: control.people }, auth.requireRole),
      people.router,
    ],
  }).callback();
  const gateway = createGatewayHandler({
    verdicts: access.verdicts,
    resourceForHost: model.resourceForHost,
    serialOfCert: (fp) => dev.certIndex.index.serialOf(fp, clock.now()),
    ssoUserHeader: config.ssoUserHeader,
    authorize: auth.authorize,
    authorizeCached: auth.authorizeCached,
    renderError: failureRenderer('api', log.child({ component: 'gateway' })),
    clock,
    log,
    metrics,
  });
  const osquery = createOsqueryHandler({
    svc: access.osq,
    maxBodyBytes: config.maxBodyBytes,
    metrics,
    renderError: failureRenderer('osquery', log.child({ component: 'osquery' })),
    failures: access.failures,
    beforeTurn: gateway.flush,
    ...(dev.peerCert ? { peerCert: dev.peerCert } : {}),
  });
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (!gateway(req, res) && !osquery(req, res)) void koa(req, res);
  };
}

async function listen(
  config: Readonly<Config>,
  tls: TlsFiles,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  clientCerts: DevicesPhase['tlsOptions'],
) {
  return listenHttps(
    {
      port: config.port,
      host: config.host,
      cert: fs.readFileSync(tls.cert),
      key: fs.readFileSync(tls.key),
      clientCerts,
      handshakeTimeoutMs: config.tlsHandshakeTimeoutMs,
      maxConnections: config.maxConnections,
      hstsMaxAge: config.hstsMaxAge,
    },
    onRequest,
  );
}

/** The background work once serving; returns what stops it. */
function startTimers(
  config: Readonly<Config>,
  { log, clock, store }: Foundation,
  control: Control,
  dev: DevicesPhase,
): () => void {
  const seenTimer = setInterval(() => {
    void control.lastSeen.flush().catch((e: unknown) => log.error({ err: e }, 'last-seen flush failed'));
  }, 1000);
  seenTimer.unref();
  // device decisions and revocations made by the CLI (another process) are picked up within 2 s
  const devicesTimer = setInterval(() => {
    void dev.service.sync().catch((e: unknown) => log.warn({ err: e }, 'device sync failed'));
    void control.people.sync().catch((e: unknown) => log.warn({ err: e }, 'device people sync failed'));
  }, 2000);
  devicesTimer.unref();
  control.work.start(); // picks up work queued by the CLI every 2 s
  // answered distributed queries past their retention, at start and hourly
  const retention = createRetention({
    distributed: store.distributed,
    clock,
    log,
    keepMs: config.distributedRetentionDays * 86_400_000,
  });
  retention.start();
  // packs/ and policy.yaml are the source of truth (GitOps, `trustgate apply`): reload when they change
  const packsWatch = watchPacksDir(control.model, log);
  const onHup = () => packsWatch.reload();
  process.on('SIGHUP', onHup);
  return () => {
    clearInterval(seenTimer);
    clearInterval(devicesTimer);
    dev.certIndex.stop();
    packsWatch.stop();
    process.off('SIGHUP', onHup);
    control.work.stop();
    retention.stop();
  };
}

export async function startServer(config: Readonly<Config>, opts: StartOptions = {}): Promise<RunningServer> {
  const t0 = performance.now();
  const foundation = await openFoundation(config, opts);
  const { log, tls, store, audit, boot } = foundation;
  const control = await startControl(config, foundation);
  const dev = await startDevices(config, foundation, control);
  const access = await startAccess(config, foundation, control, dev);
  const handlers = buildHandlers(config, foundation, control, access, dev);
  const { server, port } = await listen(config, tls, handlers, dev.tlsOptions);
  const metricsServer = config.metricsListen
    ? await listenMetrics(config.metricsListen, foundation.metrics, config.metricsToken)
    : undefined;
  const stopTimers = startTimers(config, foundation, control, dev);
  const heads = startHeadPublisher({
    head: () => audit.head(),
    log,
    notify: (text) => dev.notify({ text }),
    intervalMs: config.auditHeadIntervalSeconds * 1000,
  });

  const url = `https://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  const startupMs = Math.round(performance.now() - t0);
  const hosts = control.hosts.length;
  // the allocator: jemalloc when `npm start` found it (server/cli/start.sh; README, "Memory allocator")
  const allocator = allocatorOf();
  log.info({ event: 'server.ready', url, publicUrl: config.publicUrl, hosts, startupMs, allocator }, 'trustgate ready');
  if (control.caughtUp) {
    log.info(
      { event: 'posture.caught_up', results: control.caughtUp },
      're-evaluated results stored after the last persisted check states',
    );
  }
  if (boot.firstStart) {
    const print = opts.print ?? ((s: string) => process.stderr.write(`${s}\n`));
    const terminal = opts.terminal ?? (opts.print === undefined && process.stderr.isTTY === true);
    print(
      firstStartBanner({
        terminal,
        adminToken: boot.adminToken,
        adminTokenFile: boot.adminTokenFile,
        enrollSecretFile: boot.enrollSecretFile,
        caFile: tls.ca,
        publicUrl: config.publicUrl,
        resource: Object.keys(control.model.policy().resources)[0],
        settings: sharedSettings(config),
      }),
    );
  }

  return {
    url,
    port,
    config,
    store,
    caFile: tls.ca,
    metricsPort: metricsServer?.port,
    enrollSecretFile: boot.enrollSecretFile,
    adminToken: boot.adminToken,
    async stop(reason) {
      const t1 = performance.now();
      log.info({ event: 'server.stopping', reason: reason ?? 'stop' }, 'trustgate shutting down');
      stopTimers();
      heads.stop();
      access.breakGlass.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (metricsServer) await new Promise((resolve) => metricsServer.server.close(resolve));
      const flushed = {
        lastSeen: await control.lastSeen.flush().catch(() => 0),
        checkStates: await control.evaluation.flush(),
        auditEvents: await audit.flush(),
      };
      await store.close();
      const ms = Math.round(performance.now() - t1);
      log.info({ event: 'server.stopped', flushed, ms }, 'trustgate stopped: buffered state written, database closed');
      foundation.logger.flush();
    },
  };
}
