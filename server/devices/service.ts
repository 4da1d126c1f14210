/**
 * The device service: what admins decide about devices (approve or reject a pending one, clear a
 * rejection, import or remove inventory rows, unenroll the hosts of a revoked enroll secret), each audited,
 * and the sink of the osquery surface's device events (audited, sent to the webhook, off the request path).
 *
 * The server and the CLI both act on the store. The process that serves keeps in-memory views (node-key
 * cache, posture engine, revocation set): a change made here updates them at once, and bumps a version in
 * the store; `sync` (every 2 s in the server) notices another process's bump and refreshes them.
 */
import type {
  AuditRecorder,
  DeviceEvent,
  DeviceEventSink,
  InventoryImportOutcome,
  NodeKeyCache,
  Store,
  UnenrolledHost,
} from '../domain/ports.js';
import type { EnrollMode, Host } from '../domain/types.js';
import { modeNeedsInventory } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { conflict, errorMessage, notFound } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { DeviceCerts } from './certs.js';
import { auditOf, decisionMessage, messageOf, type WebhookMessage } from './events.js';
import { parseInventory, type InventoryFormat } from './inventory-file.js';

const VERSION_KEY = 'devices.version';

/** The in-memory views of hosts of this process (the server's, or the CLI's read view). */
export interface LiveViews {
  nodeKeys: Pick<NodeKeyCache, 'delete' | 'clear'>;
  engine: {
    updateHost(host: Host): void;
    removeHost(serial: string, hostId?: number): void;
    /** Every host the engine knows, with its state. */
    hostStates(): Array<{ id: number; serial: string; pending: boolean }>;
  };
  /** Queues the device's checks (a newly approved device has posture within seconds of its next poll). */
  recheck(serial: string, actor: string): Promise<unknown>;
}

export interface DeviceServiceDeps {
  store: Pick<Store, 'hosts' | 'inventory' | 'rejections' | 'settings'>;
  certs: DeviceCerts;
  live: LiveViews;
  audit: Pick<AuditRecorder, 'record' | 'later'>;
  /** Webhook delivery (policy `webhook`, else `break_glass.webhook`); absent or unset: none. */
  notify?: (message: WebhookMessage) => void;
  /** The inventory changed in this process (the device's people reload the owners at once). */
  onInventoryChange?: () => Promise<void>;
  mode: EnrollMode;
  clock: Clock;
  log: Logger;
}

export interface ImportInput {
  text: string;
  format: InventoryFormat;
  /** The file name (the rows' source, and named in messages). */
  source: string;
  dryRun?: boolean;
  replace?: boolean;
}

export interface DeviceService extends DeviceEventSink {
  pending(): Promise<Host[]>;
  approve(hostId: number, actor: string): Promise<{ host: Host; replaced: Host[] }>;
  reject(hostId: number, actor: string): Promise<Host>;
  clearRejection(serial: string, hardwareUuid: string | undefined, actor: string): Promise<number>;
  importInventory(input: ImportInput, actor: string): Promise<InventoryImportOutcome & { rows: number }>;
  removeInventory(serial: string, actor: string): Promise<void>;
  /** Unenrolls every host whose latest enrollment used the enroll secret `name`; how many. */
  unenrollBySecret(name: string, actor: string): Promise<number>;
  /** Revokes device certificates (DeviceCerts.revoke), and tells other processes. */
  revokeCerts(...args: Parameters<DeviceCerts['revoke']>): ReturnType<DeviceCerts['revoke']>;
  /** Reads the revocation set and the store's device version (once, before serving). */
  init(): Promise<void>;
  /** Refreshes this process's views when another process changed devices (a version in the store). */
  sync(): Promise<void>;
}

/** What the operations below share: the dependencies, the webhook, the version bump, an unenroll. */
interface Ctx {
  deps: DeviceServiceDeps;
  send(m: WebhookMessage | undefined): void;
  /** Tells other processes (the server, when the CLI acted) that devices changed. */
  bump(): Promise<void>;
}

async function pendingHost({ deps }: Ctx, hostId: number): Promise<Host> {
  const host = await deps.store.hosts.get(hostId);
  if (!host) throw notFound(`host ${hostId}`);
  if (host.enrollState !== 'pending') throw conflict(`host ${hostId} (${host.serial}) is not waiting for approval`);
  return host;
}

async function unenrollOne({ deps }: Ctx, h: Pick<Host, 'id' | 'serial'>): Promise<void> {
  const hash = await deps.store.hosts.unenroll(h.id);
  if (hash) deps.live.nodeKeys.delete(hash);
  deps.live.engine.removeHost(h.serial, h.id);
}

/** Brings the engine in line with the store after another process acted (rare: a cheap full comparison). */
async function reconcile({ store, live }: DeviceServiceDeps): Promise<void> {
  const rows = await store.hosts.states();
  const inStore = new Map(rows.map((r) => [r.id, r]));
  for (const known of live.engine.hostStates()) {
    if (!inStore.has(known.id)) live.engine.removeHost(known.serial, known.id);
  }
  const engineView = new Map(live.engine.hostStates().map((k) => [k.id, k.pending]));
  for (const r of rows) {
    const pending = engineView.get(r.id);
    if (pending !== undefined && pending === (r.state === 'pending')) continue;
    const host = await store.hosts.get(r.id);
    if (host) live.engine.updateHost(host);
  }
}

/** Approving the newcomer of a serial conflict means "this is the device now": the old records go. */
async function replaceEstablished(ctx: Ctx, host: Host, actor: string): Promise<Host[]> {
  const replaced: Host[] = [];
  for (const other of await ctx.deps.store.hosts.findBySerial(host.serial)) {
    if (other.id === host.id || other.enrollState !== 'active') continue;
    await unenrollOne(ctx, other);
    replaced.push(other);
    await ctx.deps.audit.record({
      type: 'device.unenrolled',
      actor,
      serial: other.serial,
      data: { host_id: other.id, hardware_uuid: other.hardwareUuid, why: `replaced by host ${host.id}` },
    });
  }
  return replaced;
}

async function approve(ctx: Ctx, hostId: number, actor: string): Promise<{ host: Host; replaced: Host[] }> {
  const { store, live, audit, clock } = ctx.deps;
  const host = await pendingHost(ctx, hostId);
  const replaced = host.pendingReason === 'serial_conflict' ? await replaceEstablished(ctx, host, actor) : [];
  if (modeNeedsInventory(ctx.deps.mode)) await store.inventory.approve(host.serial, host.hardwareUuid, clock.now());
  const r = await store.hosts.setEnrollState(host.id, 'active', null);
  if (!r) throw notFound(`host ${hostId}`);
  if (r.nodeKeyHash) live.nodeKeys.delete(r.nodeKeyHash);
  live.engine.updateHost(r.host);
  await audit.record({
    type: 'device.approved',
    actor,
    serial: host.serial,
    data: {
      host_id: host.id,
      hardware_uuid: host.hardwareUuid,
      reason: host.pendingReason,
      replaced: replaced.map((h) => h.id),
    },
  });
  await ctx.bump();
  // its config has no packs until the agent's next config refresh: the checks go out as a recheck now
  await live.recheck(host.serial, actor);
  ctx.send(decisionMessage('approved', host, actor));
  return { host: r.host, replaced };
}

async function reject(ctx: Ctx, hostId: number, actor: string): Promise<Host> {
  const { store, audit, clock } = ctx.deps;
  const host = await pendingHost(ctx, hostId);
  await unenrollOne(ctx, host);
  await store.rejections.add({
    serial: host.serial,
    hardwareUuid: host.hardwareUuid,
    rejectedAt: clock.now(),
    rejectedBy: actor,
  });
  await audit.record({
    type: 'device.rejected',
    actor,
    serial: host.serial,
    data: { host_id: host.id, hardware_uuid: host.hardwareUuid, reason: host.pendingReason },
  });
  await ctx.bump();
  ctx.send(decisionMessage('rejected', host, actor));
  return host;
}

async function importInventory(
  { deps, bump }: Ctx,
  input: ImportInput,
  actor: string,
): Promise<InventoryImportOutcome & { rows: number }> {
  const rows = parseInventory(input.text, input.format, input.source);
  const out = await deps.store.inventory.import(rows, {
    source: input.source,
    at: deps.clock.now(),
    ...(input.replace ? { replace: true } : {}),
    ...(input.dryRun ? { dryRun: true } : {}),
  });
  if (!input.dryRun) {
    await deps.audit.record({
      type: 'device.inventory_imported',
      actor,
      data: { source: input.source, rows: rows.length, ...out },
    });
    await bump(); // the owners changed: the device's people (people-service.ts) reload them
    await deps.onInventoryChange?.();
  }
  return { ...out, rows: rows.length };
}

async function unenrollBySecret(ctx: Ctx, name: string, actor: string): Promise<number> {
  const { store, live, audit } = ctx.deps;
  const gone: UnenrolledHost[] = await store.hosts.unenrollBySecret(name);
  for (const h of gone) {
    if (h.nodeKeyHash) live.nodeKeys.delete(h.nodeKeyHash);
    live.engine.removeHost(h.serial, h.id);
  }
  await audit.record({
    type: 'device.unenrolled',
    actor,
    data: { enroll_secret: name, hosts: gone.length, serials: gone.slice(0, 100).map((h) => h.serial) },
  });
  if (gone.length) await ctx.bump();
  return gone.length;
}

export function createDeviceService(deps: DeviceServiceDeps): DeviceService {
  const { store, audit, log } = deps;
  let seenVersion: string | undefined;
  const ctx: Ctx = {
    deps,
    send(m) {
      if (!m || !deps.notify) return;
      try {
        deps.notify(m);
      } catch (err) {
        log.warn({ event: 'device.notify_failed', err: errorMessage(err) }, 'device webhook not sent');
      }
    },
    async bump() {
      seenVersion = randomId(8);
      await store.settings.set(VERSION_KEY, seenVersion);
    },
  };

  // refused attempts on an established device: once per (serial, hardware UUID) in 10 minutes (an agent
  // retries its enrollment with back-off; the enroll secret must not be a way to fill the audit log)
  const refusedSeen = new Map<string, number>();
  const repeated = (e: DeviceEvent): boolean => {
    if (e.type !== 'device.enroll_refused') return false;
    const key = `${e.serial}\u0000${e.hardwareUuid}`;
    const now = deps.clock.now();
    const last = refusedSeen.get(key);
    if (last !== undefined && now - last < 10 * 60_000) return true;
    if (refusedSeen.size >= 10_000) refusedSeen.clear();
    refusedSeen.set(key, now);
    return false;
  };

  return {
    deviceEvent(e: DeviceEvent) {
      if (repeated(e)) return;
      audit.later(auditOf(e));
      ctx.send(messageOf(e));
    },
    pending: () => store.hosts.listPending(),
    approve: (hostId, actor) => approve(ctx, hostId, actor),
    reject: (hostId, actor) => reject(ctx, hostId, actor),

    async clearRejection(serial, hardwareUuid, actor) {
      const n = await store.rejections.clear(serial, hardwareUuid);
      if (!n) throw notFound(`a rejection of ${serial}${hardwareUuid ? ` (${hardwareUuid})` : ''}`);
      await audit.record({
        type: 'device.rejection_cleared',
        actor,
        serial,
        data: { hardware_uuid: hardwareUuid ?? null, cleared: n },
      });
      return n;
    },

    importInventory: (input, actor) => importInventory(ctx, input, actor),

    async removeInventory(serial, actor) {
      if (!(await store.inventory.remove(serial))) throw notFound(`device "${serial}" in the inventory`);
      await audit.record({ type: 'device.inventory_removed', actor, serial });
      await ctx.bump();
      await deps.onInventoryChange?.();
    },

    unenrollBySecret: (name, actor) => unenrollBySecret(ctx, name, actor),

    async revokeCerts(which, reason, actor) {
      const out = await deps.certs.revoke(which, reason, actor);
      await ctx.bump();
      return out;
    },

    async init() {
      seenVersion = await store.settings.get(VERSION_KEY);
      await deps.certs.reload();
    },

    async sync() {
      const v = await store.settings.get(VERSION_KEY);
      if (v === seenVersion) return;
      seenVersion = v;
      await deps.certs.reload();
      // another process approved, rejected, unenrolled or revoked: every cached key is read again
      deps.live.nodeKeys.clear();
      await reconcile(deps);
      log.info({ event: 'devices.synced' }, 'device changes by another process picked up');
    },
  };
}
