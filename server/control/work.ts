/**
 * Pending distributed work and attention, in process (the DistributedWork port of domain/ports.ts):
 * queries are queued durably in the store, and this process keeps the set of hosts that have some, so a
 * distributed/read with nothing pending is a Set and a Map lookup, never a store call. It also owns
 * attention (until when a person is looking at a device) and the `accelerate` each poll answers.
 *
 * Queries queued by another process (the CLI's `recheck`) are picked up by `sync`: once before serving
 * (every host with an open query), then every two seconds once `start`ed (the hosts of the queries queued
 * since the last sync, less SYNC_OVERLAP_MS: a sync reads the recent queries, not every open one).
 * Backing the port with a database instead makes attention visible to every instance.
 */
import type { DistributedPoll, DistributedRepo, DistributedWork } from '../domain/ports.js';
import { errorMessage } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';

/**
 * How far before the last sync the next one reads (by `createdAt`): a query another process stamped
 * before it committed, or stamped by a clock a little behind ours, is still seen.
 */
export const SYNC_OVERLAP_MS = 60_000;

export interface InProcessWorkDeps {
  distributed: Pick<DistributedRepo, 'enqueue' | 'takePending' | 'hasPending' | 'pendingHostIds' | 'complete'>;
  log: Logger;
  /** The time a sync starts (the next one reads the queries queued since, less SYNC_OVERLAP_MS). */
  clock: Clock;
  /** Seconds of `accelerate` sent while a recheck is pending (default 120). */
  accelerateSeconds?: number;
  /**
   * Seconds of `accelerate` sent with enrollment-time checks (default 15): they come with the read itself,
   * so a short one is enough for an agent whose answers were refused (503) to send them again in seconds,
   * without every device of a mass enrollment polling every 5 s for two minutes.
   */
  enrollAccelerateSeconds?: number;
  /** A sent query without an answer is sent again after this long (default 5 minutes). */
  resendAfterMs?: number;
  /** How often `start` picks up queries queued by other processes (default 2 s). */
  syncEveryMs?: number;
}

export interface InProcessWork extends DistributedWork {
  /**
   * Notes the hosts the store has unanswered queries for (queued by another process, or before a restart):
   * all of them the first time, then those of the queries queued since the last sync.
   */
  sync(): Promise<void>;
  /** A `sync` every `syncEveryMs` until `stop` (call `sync` once yourself before serving). */
  start(): void;
  stop(): void;
}

export function createInProcessWork(deps: InProcessWorkDeps): InProcessWork {
  const pendingHosts = new Set<number>();
  const attending = new Map<number, number>();
  const accelerate = deps.accelerateSeconds ?? 120;
  const enrollAccelerate = deps.enrollAccelerateSeconds ?? 15;
  const resendAfterMs = deps.resendAfterMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | undefined;

  /** When the last sync started; undefined before the first (which reads every open query). */
  let syncedAt: number | undefined;

  async function sync(): Promise<void> {
    const startedAt = deps.clock.now();
    const since = syncedAt === undefined ? undefined : syncedAt - SYNC_OVERLAP_MS;
    for (const id of await deps.distributed.pendingHostIds(since)) pendingHosts.add(id);
    syncedAt = startedAt;
  }

  return {
    async enqueue(items) {
      await deps.distributed.enqueue(items);
      for (const q of items) pendingHosts.add(q.hostId);
    },

    async attend(hostId, untilMs) {
      if (untilMs > (attending.get(hostId) ?? 0)) attending.set(hostId, untilMs);
    },

    async poll(hostId, now): Promise<DistributedPoll> {
      let attendFor: number | undefined;
      const until = attending.get(hostId);
      if (until !== undefined) {
        if (until > now) attendFor = Math.ceil((until - now) / 1000);
        else attending.delete(hostId);
      }
      if (!pendingHosts.has(hostId)) return attendFor ? { queries: {}, accelerate: attendFor } : { queries: {} };
      const items = await deps.distributed.takePending(hostId, now, resendAfterMs);
      if (!(await deps.distributed.hasPending(hostId))) pendingHosts.delete(hostId);
      const queries: Record<string, string> = {};
      for (const q of items) queries[q.id] = q.sql;
      const out: DistributedPoll = { queries };
      if (items.some((q) => q.kind === 'recheck')) out.accelerate = Math.max(accelerate, attendFor ?? 0);
      else if (items.some((q) => q.kind === 'enroll')) out.accelerate = Math.max(enrollAccelerate, attendFor ?? 0);
      else if (attendFor) out.accelerate = attendFor;
      return out;
    },

    complete: (hostId, answers, at) => deps.distributed.complete(hostId, answers, at),

    sync,

    start() {
      clearInterval(timer);
      timer = setInterval(() => {
        sync().catch((e: unknown) => {
          deps.log.warn({ event: 'distributed.sync_failed', err: errorMessage(e) }, 'could not read pending queries');
        });
      }, deps.syncEveryMs ?? 2000);
      timer.unref();
    },

    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
