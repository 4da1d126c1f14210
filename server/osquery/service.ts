/**
 * The osquery TLS remote API as a service: enroll → config → log → distributed → carve.
 * Transport-free: handler.ts adapts HTTP to these calls. Every write is acknowledged only after the
 * store has durably committed it (the store group-commits concurrent batches). It calls out, never back
 * in: pending queries and attention come from the DistributedWork port, cached node keys from a
 * NodeKeyCache that unenroll drops keys from, packs and posture from functions it is given. This file
 * owns authentication, ingest (log batches and recheck answers) and last-seen times; enrollment is in
 * enroll.ts, carves in carves.ts.
 */
import type {
  CarveRepo,
  DistributedPoll,
  DistributedWork,
  EnrollSecretRepo,
  HostRepo,
  NodeKeyCache,
  ResultRepo,
} from '../domain/ports.js';
import type { Host, IngestBatch, LatestResult, ResultUpdate } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { AppError, unauthenticated } from '../shared/errors.js';
import { sha256Hex } from '../shared/crypto.js';
import { TtlCache } from '../shared/ttl-cache.js';
import { addCarveBlock, beginCarve } from './carves.js';
import { enroll } from './enroll.js';
import { normalizeResults, normalizeStatuses, toInt, toRow } from './normalize.js';
import type { CarveBeginBody, CarveBlockBody, DistributedWriteBody, EnrollBody, LogBody } from './schemas.js';

export interface OsqueryDeps {
  hosts: Pick<HostRepo, 'enroll' | 'findByNodeKeyHash' | 'touch'>;
  secrets: Pick<EnrollSecretRepo, 'active'>;
  results: Pick<ResultRepo, 'ingestBatch'>;
  /** Pending distributed queries and attention (shared with the control plane). */
  work: Pick<DistributedWork, 'poll' | 'complete'>;
  /** Hosts by node-key hash (shared with unenroll, which drops keys). */
  nodeKeys: NodeKeyCache;
  carves: CarveRepo;
  /** Compiled config JSON text for a host (packs filtered by platform, checks stripped). */
  configFor(host: Host): string;
  /** Result log `name` → canonical query key. */
  queryKeyOf(logName: string): string;
  /** Check id → its query key (for recheck answers arriving through distributed/write). */
  checkQueryKey(checkId: string): string | undefined;
  /** Called after a committed batch changed latest results: evaluates posture. */
  onResults(host: Host, latest: LatestResult[]): Promise<void> | void;
  onEnrolled(host: Host, reenrolled: boolean): Promise<void> | void;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}

export interface OsqueryService {
  enroll(body: EnrollBody): Promise<{ nodeKey: string; host: Host }>;
  authenticate(nodeKey: string | undefined): Promise<Host>;
  config(host: Host): string;
  log(host: Host, body: LogBody): Promise<{ rows: number; skipped: number }>;
  distributedRead(host: Host): Promise<DistributedPoll>;
  distributedWrite(host: Host, body: DistributedWriteBody): Promise<void>;
  carveBegin(host: Host, body: CarveBeginBody): Promise<{ sessionId: string }>;
  carveBlock(body: CarveBlockBody): Promise<void>;
  /** Writes batched last-seen times. */
  flushSeen(): Promise<void>;
}

/** The node-key cache the osquery surface expects: ten minutes per entry, at most 500,000 entries. */
export function createNodeKeyCache(clock: Clock): NodeKeyCache {
  return new TtlCache<string, Host>(10 * 60_000, () => clock.now(), 500_000);
}

/** Commits a batch durably (group-committed by the store), counts it, then lets posture see what changed. */
async function commitBatch(
  deps: Pick<OsqueryDeps, 'results' | 'onResults' | 'metrics'>,
  host: Host,
  batch: IngestBatch,
  endpoint: string,
): Promise<{ rows: number; skipped: number }> {
  const started = performance.now();
  let outcome;
  try {
    outcome = await deps.results.ingestBatch(batch);
  } catch (e) {
    if (e instanceof AppError && e.code === 'unavailable') deps.metrics?.ingestQueueRejected.inc();
    throw e;
  }
  deps.metrics?.ingestSeconds.observe({ endpoint }, (performance.now() - started) / 1000);
  deps.metrics?.resultRows.inc(outcome.rowsApplied);
  if (outcome.latest.length) await deps.onResults(host, outcome.latest);
  return { rows: outcome.rowsApplied, skipped: outcome.skipped };
}

/**
 * Completes the answered distributed queries; the answers to rechecks become result updates of their
 * check's query (live-query answers are only stored with their campaign).
 */
async function recheckUpdates(
  deps: Pick<OsqueryDeps, 'work' | 'checkQueryKey' | 'log'>,
  host: Host,
  body: DistributedWriteBody,
  now: number,
): Promise<ResultUpdate[]> {
  const updates: ResultUpdate[] = [];
  for (const [id, raw] of Object.entries(body.queries)) {
    const rows = Array.isArray(raw) ? raw.map(toRow) : [];
    const status = toInt(body.statuses?.[id], 0);
    const message = body.messages?.[id] ?? '';
    const q = await deps.work.complete(host.id, id, { rows, status, message }, now);
    if (!q) {
      deps.log.debug(
        { event: 'distributed.unknown_id', hostId: host.id, id },
        'result for an unknown distributed query id ignored',
      );
      continue;
    }
    if (q.kind !== 'recheck') continue;
    const queryKey = deps.checkQueryKey(q.ref);
    if (!queryKey) continue;
    // stamped in whole seconds like osquery's own results, so a scheduled run in the same second
    // after this answer is not taken for an older one
    updates.push({
      queryKey,
      mode: 'snapshot',
      unixTime: Math.floor(now / 1000),
      epoch: 0,
      counter: 0,
      added: rows,
      removed: [],
      ...(status !== 0 ? { error: message || `query failed with status ${status}` } : {}),
    });
  }
  return updates;
}

export function createOsqueryService(deps: OsqueryDeps): OsqueryService {
  const { clock, nodeKeys } = deps;
  const seen = new Map<number, number>();

  function markSeen(host: Host): void {
    const now = clock.now();
    seen.set(host.id, now);
    host.lastSeenAt = now;
  }

  return {
    enroll: (body) => enroll(deps, body),

    async authenticate(nodeKey) {
      if (!nodeKey) throw unauthenticated('missing node key');
      const hash = sha256Hex(nodeKey);
      let host = nodeKeys.get(hash);
      if (!host) {
        host = await deps.hosts.findByNodeKeyHash(hash);
        if (!host) throw unauthenticated('invalid node key');
        nodeKeys.set(hash, host);
      }
      markSeen(host);
      return host;
    },

    config(host) {
      return deps.configFor(host);
    },

    async log(host, body) {
      const data = Array.isArray(body.data) ? body.data : [];
      const batch: IngestBatch = { hostId: host.id, receivedAt: clock.now(), results: [], statuses: [] };
      if (body.log_type === 'status') batch.statuses = normalizeStatuses(data);
      else batch.results = normalizeResults(data, deps.queryKeyOf);
      return commitBatch(deps, host, batch, 'log');
    },

    distributedRead(host) {
      return deps.work.poll(host.id, clock.now());
    },

    async distributedWrite(host, body) {
      const now = clock.now();
      const updates = await recheckUpdates(deps, host, body, now);
      if (updates.length) {
        const batch = { hostId: host.id, receivedAt: now, results: updates, statuses: [] };
        await commitBatch(deps, host, batch, 'distributed_write');
      }
    },

    carveBegin: (host, body) => beginCarve(deps, host, body),
    carveBlock: (body) => addCarveBlock(deps, body),

    async flushSeen() {
      if (!seen.size) return;
      const batch = [...seen].map(([id, at]) => ({ id, at }));
      seen.clear();
      await deps.hosts.touch(batch);
    },
  };
}
