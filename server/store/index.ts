/** The SQLite implementation of the Store port. The only entry point main.ts uses. */
import type { Store } from '../domain/ports.js';
import { openSqlite } from './open.js';
import { startCheckpointer } from './checkpointer.js';
import { createHostRepo } from './hosts.js';
import { createEnrollSecretRepo, createTokenRepo } from './credentials.js';
import { createResultRepo } from './results.js';
import { createCheckStateRepo } from './check-states.js';
import { createDistributedRepo } from './distributed.js';
import { createCarveRepo } from './carves.js';
import { createSettingsRepo } from './settings.js';
import { createBreakGlassRepo } from './break-glass.js';
import { createAuditRepo } from './audit.js';
import { createInventoryRepo } from './inventory.js';
import { createDeviceCertRepo, createEnrollRejectionRepo } from './device-certs.js';
import { createAccountMappingRepo } from './account-mappings.js';

export interface SqliteStoreOptions {
  statusLogsPerHost?: number;
  ingestQueueMax?: number;
  durableFsync?: boolean;
  /** The audit chain's HMAC key (audit/key.ts); without it entries are chained by SHA-256 only (legacy). */
  auditKey?: Buffer;
  /**
   * WAL checkpoints on a worker thread instead of inside commits (checkpointer.ts): the server's choice;
   * short-lived commands keep SQLite's automatic checkpoint. Told when the worker fails (then automatic).
   */
  checkpointWorker?: { onFailure(err: Error): void };
}

export function createSqliteStore(file: string, opts: SqliteStoreOptions = {}): Store {
  const { db, sqlite } = openSqlite(file);
  const checkpointer =
    opts.checkpointWorker && !sqlite.memory ? startCheckpointer(sqlite, opts.checkpointWorker) : null;
  // counted by triggers on hosts and device_certs (migration 0009)
  const identityVersion = sqlite
    .prepare<[], number>("SELECT value FROM sequences WHERE name = 'device_identity'")
    .pluck();
  return {
    hosts: createHostRepo(db),
    secrets: createEnrollSecretRepo(db),
    tokens: createTokenRepo(db),
    results: createResultRepo(sqlite, {
      statusLogsPerHost: opts.statusLogsPerHost ?? 100,
      queueMax: opts.ingestQueueMax ?? 2000,
      fsync: opts.durableFsync ?? true,
    }),
    checkStates: createCheckStateRepo(sqlite),
    distributed: createDistributedRepo(sqlite),
    carves: createCarveRepo(sqlite),
    breakGlass: createBreakGlassRepo(db),
    audit: createAuditRepo(db, opts.auditKey),
    settings: createSettingsRepo(sqlite),
    inventory: createInventoryRepo(sqlite),
    rejections: createEnrollRejectionRepo(sqlite),
    deviceCerts: createDeviceCertRepo(sqlite),
    accountMappings: createAccountMappingRepo(sqlite),
    async deviceIdentityVersion() {
      return identityVersion.get() ?? 0;
    },
    async ping() {
      try {
        return sqlite.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
    async close() {
      await checkpointer?.stop();
      if (sqlite.open) sqlite.close();
    },
  };
}
