/**
 * The device service opened on the server's data directory, for the CLI's device commands. A command that
 * changes what a running server keeps in memory (approve, reject, revoke, unenroll) bumps the devices
 * version in the store; the server picks the change up within 2 seconds. Approving needs the server's
 * state in this process too (its checks are queued as a recheck): `withEngine` opens the read view.
 */
import type { Config } from '../config/load.js';
import { createAuditService } from '../audit/service.js';
import { openDevices, type Devices } from '../devices/open.js';
import type { LiveViews } from '../devices/service.js';
import type { Store } from '../domain/ports.js';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import { openLocal, openStore } from './local.js';

/** This process keeps no views of hosts: nothing to update in memory (the server syncs from the store). */
const NO_VIEWS: LiveViews = {
  nodeKeys: { delete: () => undefined, clear: () => undefined },
  engine: { updateHost: () => undefined, removeHost: () => undefined, hostStates: () => [] },
  recheck: async () => undefined,
};

export interface DeviceAdmin {
  store: Store;
  devices: Devices;
  audit: ReturnType<typeof createAuditService>;
  close(): Promise<void>;
}

export async function openDeviceAdmin(
  cfg: Readonly<Config>,
  opts: { withEngine?: boolean } = {},
): Promise<DeviceAdmin> {
  const log = createLogger('silent');
  const clock = systemClock;
  let store: Store;
  let live = NO_VIEWS;
  let audit: ReturnType<typeof createAuditService>;
  if (opts.withEngine) {
    const local = await openLocal(cfg);
    store = local.store;
    audit = local.audit;
    live = { ...NO_VIEWS, engine: local.engine, recheck: local.ops.recheck };
  } else {
    store = openStore(cfg);
    audit = createAuditService({ repo: store.audit, clock, log });
  }
  try {
    const devices = await openDevices({ settings: cfg, store, audit, live, clock, log });
    return {
      store,
      devices,
      audit,
      async close() {
        await audit.flush();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
