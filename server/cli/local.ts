/**
 * The server's data opened in this process, for the commands that act on it: the store (the server's
 * SQLite file, which must exist), credentials audited as the CLI's user, and a read view of the
 * server's state (same pure engine, same data) for the read commands.
 */
import { createDevicePeopleService } from '../devices/people-service.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { createAuditService } from '../audit/service.js';
import { loadAuditKey } from '../audit/key.js';
import { createCredentials, type Credentials } from '../control/credentials.js';
import { openControlPlane } from '../control/plane.js';
import { createInProcessWork } from '../control/work.js';
import type { Store } from '../domain/ports.js';
import { createNodeKeyCache } from '../osquery/service.js';
import { systemClock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { createSqliteStore } from '../store/index.js';
import { withRemediationLinks } from '../people/verdict-links.js';
import type { VerdictSource } from '../domain/verdict.js';

/** The server's store; not_found when no server has run on this data directory yet. */
export function openStore(cfg: Readonly<Config>): Store {
  if (!fs.existsSync(cfg.dbPath))
    throw new AppError(
      'not_found',
      `no Trustgate database at ${cfg.dbPath}: start the server once (npm start) or set TRUSTGATE_DATA_DIR`,
    );
  // entries the CLI appends are chained with the server's audit key (refused without it)
  return createSqliteStore(cfg.dbPath, {
    durableFsync: cfg.durableFsync,
    auditKey: loadAuditKey(cfg, { create: false }),
  });
}

/**
 * An in-process view of the server's state (same pure engine, same data) for read commands. Work it
 * queues (recheck) goes to the store, where the running server picks it up within seconds. `verdicts`
 * are the gateway API's: a would-deny verdict carries the remediation link signed with the server's
 * key (data/link.key), when there is one.
 */
export async function openLocal(cfg: Readonly<Config>) {
  const store = openStore(cfg);
  const clock = systemClock;
  const log = createLogger('silent');
  const audit = createAuditService({ repo: store.audit, clock, log });
  // the device's people, so `verdict` answers require_device_user tiers as the server does
  const people = createDevicePeopleService({ store, audit, rule: cfg.accountPersonRule, clock, log });
  const { engine, model, ops, hosts, lastSeen } = await openControlPlane({
    store,
    audit,
    work: createInProcessWork({ distributed: store.distributed, log, clock }),
    nodeKeys: createNodeKeyCache(clock),
    packsDir: cfg.packsDir,
    compile: {},
    people,
    catchUp: false,
    clock,
    log,
  });
  await people.load(hosts);
  const grants = await store.breakGlass.list({ status: 'active' });
  engine.setActiveGrants(grants.filter((g) => (g.expiresAt ?? 0) > clock.now()));
  const keyFile = path.join(cfg.dataDir, 'link.key');
  const verdicts: VerdictSource = fs.existsSync(keyFile)
    ? withRemediationLinks(engine, {
        key: fs.readFileSync(keyFile, 'utf8').trim(),
        publicUrl: cfg.publicUrl,
        ttlMs: cfg.linkTtlSeconds * 1000,
        noteUse: () => undefined, // looking a verdict up is not using a grant
      })
    : engine;
  return { store, engine, verdicts, model, ops, audit, hosts, lastSeen };
}

/** Credentials on the server's store, audited as the CLI's user. */
export function openCredentials(cfg: Readonly<Config>): { store: Store; credentials: Credentials } {
  const store = openStore(cfg);
  const audit = createAuditService({ repo: store.audit, clock: systemClock, log: createLogger('silent') });
  return {
    store,
    credentials: createCredentials({ tokens: store.tokens, secrets: store.secrets, audit, clock: systemClock }),
  };
}
