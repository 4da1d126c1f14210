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
 * Everything is built once, in dependency order, from what was built before it (nothing is bound late):
 * store → audit → bootstrap → engine → evaluation → runtime model (startup reload) → warm start →
 * work + node-key cache → operations, packs API → osquery service → auth, credentials, break glass →
 * routes and handlers → listen → timers (last-seen flush, work sync, packs reload).
 */
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/load.js';
import type { Store } from './domain/ports.js';
import { createServerLogger, type Logger } from './shared/log.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createMetrics } from './shared/metrics.js';
import { createSqliteStore } from './store/index.js';
import { ensureTls } from './http/tls.js';
import { createApp } from './http/app.js';
import { createTokenAuth } from './http/auth.js';
import { createNodeKeyCache, createOsqueryService } from './osquery/service.js';
import { createOsqueryHandler } from './osquery/handler.js';
import { createGatewayHandler } from './gateway/handler.js';
import { failureRenderer } from './http/errors.js';
import { adminRouter } from './admin/routes.js';
import { createPostureEngine } from './posture/engine.js';
import { createEvaluation } from './control/evaluation.js';
import { createRuntimeModel, watchPacksDir } from './control/model.js';
import { createInProcessWork } from './control/work.js';
import { createHostOperations } from './control/operations.js';
import { createPacksApi } from './control/packs-api.js';
import { createCredentials } from './control/credentials.js';
import { createHostSummary } from './control/summary.js';
import { bootstrap, osquerydFlags } from './control/bootstrap.js';
import { createAuditService } from './audit/service.js';
import { auditRouter } from './audit/routes.js';
import { createBreakGlassService } from './breakglass/service.js';
import { createWebhookNotifier } from './breakglass/webhook.js';
import { breakGlassRouter } from './breakglass/routes.js';
import { signDeviceLink, deviceLinkUrl, verifyDeviceLink } from './people/link.js';
import { createPeoplePages } from './people/routes.js';
import type { VerdictSource } from './domain/verdict.js';

/**
 * The gateway's view of the engine: adds the signed remediation-page link (SPEC §4/§6) to verdicts whose
 * posture would deny, and reports break-glass use (audited once per grant). Both happen off the plain
 * allow path, which stays a lookup.
 */
function gatewayVerdicts(
  source: VerdictSource,
  opts: { key: string; publicUrl: string; ttlMs: number; noteUse(grantId: string): void },
): VerdictSource {
  // A denied device's gateway asks again on every request: a signed link is reused while it has more
  // than half its lifetime left, so every link handed out stays valid for at least ttl/2.
  const links = new Map<string, { url: string; expiresAt: number }>();
  const linkFor = (serial: string, resource: string, user: string, now: number): string => {
    const k = `${serial}\u0000${resource}\u0000${user}`;
    const hit = links.get(k);
    if (hit && hit.expiresAt - now > opts.ttlMs / 2) return hit.url;
    if (links.size >= 100_000) links.clear();
    const expiresAt = now + opts.ttlMs;
    const url = deviceLinkUrl(opts.publicUrl, signDeviceLink({ serial, user, resource }, opts.key, expiresAt));
    links.set(k, { url, expiresAt });
    return url;
  };
  return {
    bundle: () => source.bundle(),
    verdict(serial, resource, user, now) {
      const out = source.verdict(serial, resource, user, now);
      if (out.kind !== 'verdict' || !out.verdict.would_deny) return out;
      if (out.verdict.break_glass) opts.noteUse(out.verdict.break_glass.id);
      if (out.verdict.remediation_page) return out;
      const remediationPage = linkFor(serial, resource, user ?? '', now);
      return { kind: 'verdict', verdict: { ...out.verdict, remediation_page: remediationPage } };
    },
  };
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** Where the first-start banner (admin token, osqueryd flags) goes; default stderr. */
  print?: (text: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  config: Readonly<Config>;
  store: Store;
  caFile: string | undefined;
  enrollSecretFile: string;
  adminToken: string | undefined;
  stop(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, opts: StartOptions = {}): Promise<RunningServer> {
  const t0 = performance.now();
  const clock = opts.clock ?? systemClock;
  // a given logger is the caller's to flush
  const logger = opts.log ? { log: opts.log, flush: () => undefined } : createServerLogger(config.logLevel);
  const { log } = logger;
  const print = opts.print ?? ((s: string) => process.stderr.write(`${s}\n`));
  const metrics = createMetrics();

  const tls = ensureTls(config.certsDir);
  if (tls.generated) {
    log.info({ event: 'tls.generated', dir: config.certsDir }, 'generated a dev CA and server certificate');
  }
  const { statusLogsPerHost, ingestQueueMax, durableFsync } = config;
  const store = createSqliteStore(config.dbPath, { statusLogsPerHost, ingestQueueMax, durableFsync });
  const audit = createAuditService({ repo: store.audit, clock, log });
  const boot = await bootstrap(
    { settings: store.settings, secrets: store.secrets, tokens: store.tokens, audit },
    config.dataDir,
    clock.now(),
  );

  const linkTtlMs = config.linkTtlSeconds * 1000;
  const engine = createPostureEngine({ clock, log });

  // the control plane, in dependency order: evaluation ← runtime model ← warm start ← operations
  const evaluation = createEvaluation({
    engine,
    hosts: store.hosts,
    results: store.results,
    checkStates: store.checkStates,
    settings: store.settings,
    audit,
    clock,
    log,
  });
  const model = createRuntimeModel({
    packsDir: config.packsDir,
    engine,
    results: store.results,
    evaluation,
    log,
    compile: { distributedInterval: config.distributedInterval, loggerTlsPeriod: config.loggerTlsPeriod },
  });
  await model.reload({ startup: true });
  const { hosts, caughtUp } = await evaluation.warmStart({ catchUp: true });
  metrics.hostsEnrolled.set(hosts.length);

  // shared by the osquery surface and the operations: pending work + attention, cached node keys
  const work = createInProcessWork({ distributed: store.distributed, log });
  await work.sync();
  const nodeKeys = createNodeKeyCache(clock);
  const ops = createHostOperations({
    hosts: store.hosts,
    campaigns: store.distributed,
    work,
    nodeKeys,
    engine,
    model,
    audit,
    clock,
    log,
    metrics,
  });
  const packsApi = createPacksApi({ model, engine, audit, clock });

  const osq = createOsqueryService({
    hosts: store.hosts,
    secrets: store.secrets,
    results: store.results,
    work,
    nodeKeys,
    carves: store.carves,
    configFor: model.configFor,
    queryKeyOf: model.queryKeyOf,
    checkQueryKey: model.checkQueryKey,
    onResults: evaluation.onResults,
    onEnrolled: ops.enrolled,
    clock,
    log,
    metrics,
  });

  const auth = createTokenAuth({ tokens: store.tokens, clock });
  const credentials = createCredentials({
    tokens: store.tokens,
    secrets: store.secrets,
    audit,
    clock,
    tokenRevoked: auth.invalidate,
  });
  const webhook = createWebhookNotifier({ log, fetch: (url, init) => fetch(url, init) });
  const breakGlass = createBreakGlassService({
    repo: store.breakGlass,
    audit,
    clock,
    log,
    grants: { add: (g) => engine.addGrant(g), remove: (id) => engine.removeGrant(id) },
    policy: () => engine.policy() ?? model.policy(),
    deviceKnown: async (serial) => (await store.hosts.findBySerial(serial)).length > 0,
    webhook,
  });
  await breakGlass.load();
  breakGlass.start();
  const verdicts = gatewayVerdicts(engine, {
    key: boot.linkKey,
    publicUrl: config.publicUrl,
    ttlMs: linkTtlMs,
    noteUse: (id) => breakGlass.noteUse(id),
  });

  const people = createPeoplePages({
    verdict: (serial, resource, user, now) => {
      const v = engine.verdict(serial, resource, user, now);
      return v.kind === 'verdict' ? v.verdict : undefined;
    },
    hostBySerial: async (serial) => (await store.hosts.findBySerial(serial))[0],
    tierReport: (serial, tier, now) => engine.tierReport(serial, tier, now),
    recheck: ops.recheck,
    // while a person has the page open, the agent polls every 5 s (10 minutes from the last view)
    onPageView: (serial) => void ops.pageViewed(serial),
    breakGlass,
    clock,
    log,
    hmacKey: boot.linkKey,
    publicUrl: config.publicUrl,
    policy: () => model.policy(),
    ...(config.helpText || config.helpUrl
      ? {
          help: {
            ...(config.helpText ? { text: config.helpText } : {}),
            ...(config.helpUrl ? { url: config.helpUrl } : {}),
          },
        }
      : {}),
  });
  const app = createApp({
    log,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    ready: () => store.ping(),
    pages: people.failures,
    routers: [
      adminRouter({
        hosts: store.hosts,
        results: store.results,
        checkStates: (id) => store.checkStates.forHost(id),
        tokens: store.tokens,
        secrets: store.secrets,
        credentials,
        carves: store.carves,
        summary: createHostSummary({ engine, model }),
        recheck: ops.recheck,
        unenroll: ops.unenroll,
        packs: packsApi.packs,
        policy: packsApi.policy,
        liveQuery: ops.liveQuery,
        liveQueryResults: ops.liveQueryResults,
        requireRole: auth.requireRole,
        clock,
      }),
      auditRouter({ audit }, auth.requireRole),
      breakGlassRouter(
        {
          breakGlass,
          verifyLink: (token) => verifyDeviceLink(token, boot.linkKey, clock.now()),
        },
        auth.requireRole,
      ),
      people.router,
    ],
  });

  const gateway = createGatewayHandler({
    verdicts,
    resourceForHost: model.resourceForHost,
    authorize: auth.authorize,
    authorizeCached: auth.authorizeCached,
    renderError: failureRenderer('api', log.child({ component: 'gateway' })),
    clock,
    log,
    metrics,
  });
  const osquery = createOsqueryHandler({
    svc: osq,
    maxBodyBytes: config.maxBodyBytes,
    metrics,
    renderError: failureRenderer('osquery', log.child({ component: 'osquery' })),
  });
  const koa = app.callback();
  const server = https.createServer(
    {
      cert: fs.readFileSync(tls.cert),
      key: fs.readFileSync(tls.key),
      minVersion: 'TLSv1.2',
      keepAliveTimeout: 75_000,
      headersTimeout: 20_000,
      requestTimeout: 60_000,
    },
    (req, res) => {
      if (!gateway(req, res) && !osquery(req, res)) void koa(req, res);
    },
  );
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const seenTimer = setInterval(() => {
    void osq.flushSeen().catch((e: unknown) => log.error({ err: e }, 'last-seen flush failed'));
  }, 1000);
  seenTimer.unref();
  work.start(); // picks up work queued by the CLI every 2 s
  // packs/ and policy.yaml are the source of truth (GitOps, `trustgate apply`): reload when they change
  const packsWatch = watchPacksDir(model, log);
  const onHup = () => packsWatch.reload();
  process.on('SIGHUP', onHup);

  const url = `https://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  const startupMs = Math.round(performance.now() - t0);
  log.info(
    { event: 'server.ready', url, publicUrl: config.publicUrl, hosts: hosts.length, startupMs },
    'trustgate ready',
  );
  if (caughtUp) {
    log.info(
      { event: 'posture.caught_up', results: caughtUp },
      're-evaluated results stored after the last persisted check states',
    );
  }
  if (boot.firstStart) {
    const flags = osquerydFlags({
      host: config.publicUrl.replace(/^https?:\/\//, '').split(':')[0] ?? os.hostname(),
      port,
      caFile: tls.ca ?? '<your CA bundle>',
      secretFile: boot.enrollSecretFile,
    });
    print(
      [
        '',
        '┌─ Trustgate first start ───────────────────────────────────────────────',
        boot.adminToken
          ? `│ Admin API token (shown once, stored only as a hash):\n│   ${boot.adminToken}`
          : '│ (admin tokens already existed; none created)',
        `│ Enroll secret: ${boot.enrollSecretFile}`,
        tls.ca ? `│ Dev CA for agents and browsers: ${tls.ca}` : '│ TLS: using the provided server certificate',
        '│ Start osqueryd with these flags (also in osquery-examples/osquery.flags):',
        ...flags.split('\n').map((l) => `│   ${l}`),
        '└───────────────────────────────────────────────────────────────────────',
        '',
      ].join('\n'),
    );
  }

  return {
    url,
    port,
    config,
    store,
    caFile: tls.ca,
    enrollSecretFile: boot.enrollSecretFile,
    adminToken: boot.adminToken,
    async stop() {
      clearInterval(seenTimer);
      packsWatch.stop();
      process.off('SIGHUP', onHup);
      work.stop();
      breakGlass.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await osq.flushSeen().catch(() => undefined);
      await evaluation.flush();
      await audit.flush();
      await store.close();
      logger.flush();
    },
  };
}
