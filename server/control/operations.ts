/**
 * Operations on devices that span modules, each audited: enrollment's aftermath (the engine and the
 * last-seen registry learn the host, and its checks are queued so its first verdict comes within seconds,
 * not at its schedule), recheck (queue the failing and stale checks), live queries and their results,
 * unenroll (the node key stops working at once), and a person's view of the remediation page (the device
 * polls fast for a while). Queued work and attention go through the DistributedWork port, which the
 * osquery surface polls.
 */
import type { AuditRecorder, DistributedRepo, DistributedWork, HostRepo, NodeKeyCache } from '../domain/ports.js';
import type { CheckDef, DistributedQuery, Host } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { notFound } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { PostureEngine } from '../posture/engine.js';
import { createBatcher } from './batch.js';
import type { LastSeenRegistry } from './last-seen.js';
import { appliesTo, type RuntimeModel } from './model.js';

/** How long after a person opens the remediation page their device is asked to poll fast. */
export const PAGE_ATTENTION_MS = 10 * 60_000;

export interface HostOperationsDeps {
  hosts: Pick<HostRepo, 'findBySerial' | 'list' | 'get' | 'unenroll'>;
  campaigns: Pick<DistributedRepo, 'campaignResults'>;
  work: Pick<DistributedWork, 'enqueue' | 'attend'>;
  nodeKeys: Pick<NodeKeyCache, 'delete'>;
  engine: Pick<PostureEngine, 'failingOrStaleChecks' | 'removeHost' | 'updateHost'>;
  model: Pick<RuntimeModel, 'checks'>;
  lastSeen: Pick<LastSeenRegistry, 'load' | 'forget'>;
  audit: Pick<AuditRecorder, 'record' | 'later'>;
  clock: Clock;
  log: Logger;
  metrics?: Pick<Metrics, 'hostsEnrolled'>;
}

export interface HostOperations {
  /**
   * An agent enrolled (or re-enrolled): the engine and the last-seen registry learn the host, its
   * enrollment-time checks are queued (queueEnrollmentChecks; not for a device held pending), and it is
   * audited in the background.
   * Resolves once the checks are queued, so the agent's first distributed/read gets them. Never rejects.
   */
  enrolled(host: Host, reenrolled: boolean): Promise<void>;
  /**
   * Queues every check that applies to the host's platform as distributed queries of kind `enroll`
   * (answered like a recheck, feeding posture like scheduled results; sent with a short `accelerate`, see
   * control/work.ts), so a device that just enrolled has a complete verdict within seconds instead of
   * after its schedule and splay. Writes of hosts
   * enrolling together are batched into one store transaction. Returns the check ids; never rejects.
   */
  queueEnrollmentChecks(host: Host): Promise<string[]>;
  /** Queues the device's failing and stale checks; its agent gets them with `accelerate`. */
  recheck(serial: string, actor: string): Promise<{ queued: string[] }>;
  /** Queues SQL for the hosts named by serial, or every host (of a platform): a live-query campaign. */
  liveQuery(
    input: { sql: string; serials?: string[]; platform?: string },
    actor: string,
  ): Promise<{ id: string; hosts: number }>;
  /** The campaign's answers so far, per host. */
  liveQueryResults(id: string): Promise<unknown>;
  /** Removes every host with this serial; their node keys stop working at once. Returns how many. */
  unenroll(serial: string, actor: string): Promise<number>;
  /** A person opened the device's remediation page: it polls fast for PAGE_ATTENTION_MS. Never rejects. */
  pageViewed(serial: string): Promise<void>;
}

/** Queues the device's failing and stale checks that apply to each of its hosts (audited). */
async function recheck(deps: HostOperationsDeps, serial: string, actor: string): Promise<{ queued: string[] }> {
  const { hosts, engine, clock } = deps;
  const found = await hosts.findBySerial(serial);
  if (!found.length) throw notFound(`host with serial "${serial}"`);
  const now = clock.now();
  const checks = deps.model.checks();
  const ids = engine.failingOrStaleChecks(serial, now);
  const defs = ids.map((id) => checks.find((c) => c.id === id)).filter((c): c is CheckDef => c !== undefined);
  const items = found.flatMap((h) =>
    defs
      .filter((d) => appliesTo(d, h))
      .map((d) => ({
        id: `tg_recheck_${d.id}_${randomId(6)}`,
        hostId: h.id,
        sql: d.sql,
        kind: 'recheck' as const,
        ref: d.id,
        createdAt: now,
      })),
  );
  await deps.work.enqueue(items);
  const queued = defs.map((d) => d.id);
  deps.log.info({ event: 'host.recheck', serial, actor, checks: queued }, 'recheck queued');
  await deps.audit.record({ type: 'host.recheck', actor, serial, data: { checks: queued } });
  return { queued: [...new Set(items.map((i) => i.ref))] };
}

/** Queues a live-query campaign on the named hosts, or every host (of a platform); audited. */
async function liveQuery(
  deps: HostOperationsDeps,
  input: { sql: string; serials?: string[]; platform?: string },
  actor: string,
): Promise<{ id: string; hosts: number }> {
  const { hosts } = deps;
  let targets: Host[];
  if (input.serials?.length) targets = (await Promise.all(input.serials.map((s) => hosts.findBySerial(s)))).flat();
  else targets = await hosts.list(input.platform ? { platform: input.platform } : {});
  if (!targets.length) throw notFound('matching hosts');
  const id = `tg_live_${randomId(8)}`;
  const now = deps.clock.now();
  await deps.work.enqueue(
    targets.map((h) => ({
      id: `${id}_${h.id}`,
      hostId: h.id,
      sql: input.sql,
      kind: 'live' as const,
      ref: id,
      createdAt: now,
    })),
  );
  await deps.audit.record({ type: 'admin.query', actor, data: { id, sql: input.sql, hosts: targets.length } });
  return { id, hosts: targets.length };
}

/** A campaign's answers so far, per host (by serial). */
async function liveQueryResults(deps: HostOperationsDeps, id: string): Promise<unknown> {
  const rows = await deps.campaigns.campaignResults(id);
  if (!rows.length) throw notFound(`live query "${id}"`);
  const serials = new Map<number, string>();
  for (const r of rows) {
    if (!serials.has(r.hostId)) serials.set(r.hostId, (await deps.hosts.get(r.hostId))?.serial ?? '');
  }
  return {
    id,
    hosts: rows.length,
    answered: rows.filter((r) => r.completedAt !== null).length,
    results: rows.map((r) => ({
      serial: serials.get(r.hostId),
      status: r.status,
      message: r.message,
      rows: r.rows,
      completed_at: r.completedAt === null ? null : new Date(r.completedAt).toISOString(),
    })),
  };
}

type QueuedQuery = Omit<DistributedQuery, 'sentAt' | 'completedAt'>;

/** The enrollment-time queries of a host: every check that applies to its platform. */
function enrollmentQueries(checks: readonly CheckDef[], host: Host, now: number): QueuedQuery[] {
  return checks
    .filter((d) => appliesTo(d, host))
    .map((d) => ({
      id: `tg_enroll_${d.id}_${randomId(6)}`,
      hostId: host.id,
      sql: d.sql,
      kind: 'enroll' as const,
      ref: d.id,
      createdAt: now,
    }));
}

export function createHostOperations(deps: HostOperationsDeps): HostOperations {
  const { hosts, work, engine, audit, clock, log } = deps;
  // one store transaction for the checks of every host that enrolled within the same 5 ms
  const enrollQueue = createBatcher<QueuedQuery>((items) => work.enqueue(items));

  async function queueEnrollmentChecks(host: Host): Promise<string[]> {
    const items = enrollmentQueries(deps.model.checks(), host, clock.now());
    try {
      await enrollQueue.add(items);
      return items.map((q) => q.ref);
    } catch (e) {
      // the device still gets its checks from its schedule; until then it is denied (unknown)
      log.warn({ event: 'host.enrollment_checks_failed', serial: host.serial, err: e }, 'could not queue checks');
      return [];
    }
  }

  return {
    async enrolled(host, reenrolled) {
      engine.updateHost(host);
      deps.lastSeen.load([host]);
      if (!reenrolled) deps.metrics?.hostsEnrolled.inc();
      // a device held pending gets no posture queries: its checks go out when an admin approves it
      const checks = host.enrollState === 'pending' ? [] : await queueEnrollmentChecks(host);
      audit.later({
        type: 'host.enrolled',
        actor: `host:${host.serial}`,
        serial: host.serial,
        data: {
          host_id: host.id,
          hostname: host.hostname,
          platform: host.platform,
          reenrolled,
          enroll_secret: host.enrollSecretName,
          serial_conflict: host.serialConflict,
          enrollment_checks: checks,
        },
      });
    },

    queueEnrollmentChecks,

    recheck: (serial, actor) => recheck(deps, serial, actor),
    liveQuery: (input, actor) => liveQuery(deps, input, actor),
    liveQueryResults: (id) => liveQueryResults(deps, id),

    async unenroll(serial, actor) {
      const found = await hosts.findBySerial(serial);
      for (const h of found) {
        const hash = await hosts.unenroll(h.id);
        if (hash) deps.nodeKeys.delete(hash);
        engine.removeHost(serial, h.id);
        deps.lastSeen.forget(h.id);
      }
      await audit.record({ type: 'admin.host.unenrolled', actor, serial, data: { hosts: found.length } });
      return found.length;
    },

    async pageViewed(serial) {
      try {
        const until = clock.now() + PAGE_ATTENTION_MS;
        for (const h of await hosts.findBySerial(serial)) await work.attend(h.id, until);
      } catch (e) {
        log.warn({ event: 'page.attention_failed', serial, err: e }, 'could not ask the device to poll fast');
      }
    },
  };
}
