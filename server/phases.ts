/**
 * The first wiring phases of the composition root (main.ts): the foundation, the control plane and the
 * device identity. Each is built from what the phase before it returned; main.ts runs them in order and
 * builds the surfaces (osquery, gateway, people, admin) on top.
 */
import type { Config } from './config/load.js';
import { createServerLogger } from './shared/log.js';
import { systemClock } from './shared/clock.js';
import { createMetrics } from './shared/metrics.js';
import { createSqliteStore } from './store/index.js';
import { ensureTls } from './http/tls.js';
import { openControlPlane } from './control/plane.js';
import { createInProcessWork } from './control/work.js';
import { createPacksApi } from './control/packs-api.js';
import { bootstrap } from './control/bootstrap.js';
import { createNodeKeyCache } from './osquery/service.js';
import { createAuditService } from './audit/service.js';
import { loadAuditKey } from './audit/key.js';
import { createWebhookNotifier, type SlackMessage } from './breakglass/webhook.js';
import { openCertIndex, openDevices } from './devices/open.js';
import { createDevicePeopleService } from './devices/people-service.js';
import { deviceUsersPack } from './devices/logged-in.js';
import type { Clock } from './shared/clock.js';
import type { Logger } from './shared/log.js';

/** What a caller of startServer may supply to the foundation (StartOptions in main.ts). */
export interface FoundationOptions {
  clock?: Clock;
  log?: Logger;
}

export type Foundation = Awaited<ReturnType<typeof openFoundation>>;
export type Control = Awaited<ReturnType<typeof startControl>>;
export type DevicesPhase = Awaited<ReturnType<typeof startDevices>>;

/** Logger, metrics, TLS files, the store and its audit trail, and the first-start bootstrap. */
export async function openFoundation(config: Readonly<Config>, opts: FoundationOptions) {
  const clock = opts.clock ?? systemClock;
  // a given logger is the caller's to flush
  const logger = opts.log ? { log: opts.log, flush: () => undefined } : createServerLogger(config.logLevel);
  const { log } = logger;
  const metrics = createMetrics();
  const tls = ensureTls(config.certsDir);
  if (tls.generated) {
    log.info({ event: 'tls.generated', dir: config.certsDir }, 'generated a dev CA and server certificate');
  }
  const { statusLogsPerHost, ingestQueueMax, durableFsync } = config;
  const auditKey = loadAuditKey(config, { create: true }); // outside the database (README "Security notes")
  const store = createSqliteStore(config.dbPath, {
    statusLogsPerHost,
    ingestQueueMax,
    durableFsync,
    auditKey,
    checkpointWorker: {
      onFailure: (err) =>
        log.error(
          { event: 'store.checkpoint_worker_failed', err },
          'WAL checkpoint worker failed; SQLite checkpoints inline again',
        ),
    },
  });
  const audit = createAuditService({ repo: store.audit, clock, log, key: auditKey });
  await audit.keyTail();
  const boot = await bootstrap(
    { settings: store.settings, secrets: store.secrets, tokens: store.tokens, audit },
    config.dataDir,
    clock.now(),
  );
  return { clock, logger, log, metrics, tls, store, audit, boot };
}

/** The control plane (control/plane.ts), warmed, with the pieces the osquery surface shares with it. */
export async function startControl(config: Readonly<Config>, { clock, log, metrics, store, audit }: Foundation) {
  // shared by the osquery surface and the operations: pending work + attention, cached node keys
  const work = createInProcessWork({ distributed: store.distributed, log, clock });
  const nodeKeys = createNodeKeyCache(clock);
  // the device's people (tiers with require_device_user): owners, account mappings, logged-in accounts
  const people = createDevicePeopleService({ store, audit, rule: config.accountPersonRule, clock, log });
  const plane = await openControlPlane({
    store,
    audit,
    work,
    nodeKeys,
    packsDir: config.packsDir,
    compile: { distributedInterval: config.distributedInterval, loggerTlsPeriod: config.loggerTlsPeriod },
    builtinPacks: [deviceUsersPack()],
    people,
    catchUp: true,
    clock,
    log,
    metrics,
  });
  metrics.hostsEnrolled.set(plane.hosts.length);
  await people.load(plane.hosts);
  await work.sync();
  const packsApi = createPacksApi({
    model: plane.model,
    engine: plane.engine,
    audit,
    clock,
    webhookAllowPrivate: config.webhookAllowPrivate,
  });
  return { ...plane, work, nodeKeys, packsApi, people };
}

/** Device identity: the device CA, certificates and their revocation set, the device service. */
export async function startDevices(
  config: Readonly<Config>,
  { clock, log, store, audit }: Foundation,
  control: Control,
) {
  const webhook = createWebhookNotifier({
    log,
    fetch: (url, init) => fetch(url, init),
    allowPrivate: config.webhookAllowPrivate,
  });
  const notify = (message: SlackMessage): void => {
    const policy = control.engine.policy() ?? control.model.policy();
    const url = policy.webhook ?? policy.breakGlass.webhook;
    if (url) void webhook.send(url, message);
  };
  const devices = await openDevices({
    settings: config,
    store,
    audit,
    live: { nodeKeys: control.nodeKeys, engine: control.engine, recheck: control.ops.recheck },
    notify,
    onInventoryChange: () => control.people.sync(),
    clock,
    log,
  });
  const certIndex = await openCertIndex(devices, config, store, log);
  return { ...devices, webhook, notify, certIndex };
}
