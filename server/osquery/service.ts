/**
 * The osquery TLS remote API as a service: enroll → config → log → distributed → carve.
 * Transport-free: handler.ts adapts HTTP to these calls. Every write is acknowledged only after the
 * store has durably committed it (the store group-commits concurrent batches). It calls out, never back
 * in: pending queries and attention come from the DistributedWork port, cached node keys from a
 * NodeKeyCache that unenroll drops keys from, packs and posture from functions it is given.
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
import { AppError, unauthenticated, invalid } from '../shared/errors.js';
import { matchesHash, randomSecret, sha256Hex, randomId } from '../shared/crypto.js';
import { TtlCache } from '../shared/ttl-cache.js';
import { enrollFacts, normalizeResults, normalizeStatuses, toInt, toRow } from './normalize.js';
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

export function createOsqueryService(deps: OsqueryDeps): OsqueryService {
  const { clock, log, nodeKeys } = deps;
  const seen = new Map<number, number>();

  function markSeen(host: Host): void {
    const now = clock.now();
    seen.set(host.id, now);
    host.lastSeenAt = now;
  }

  async function commit(host: Host, batch: IngestBatch, endpoint: string): Promise<{ rows: number; skipped: number }> {
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

  return {
    async enroll(body) {
      const now = clock.now();
      const secrets = await deps.secrets.active(now);
      // check every secret (no early exit) so timing does not reveal which one matched
      let matched: string | undefined;
      for (const s of secrets) if (matchesHash(body.enroll_secret, s.hash) && matched === undefined) matched = s.name;
      if (matched === undefined) {
        log.warn(
          { event: 'host.enroll_refused', hostIdentifier: body.host_identifier },
          'enroll refused: invalid enroll secret',
        );
        throw unauthenticated('invalid enroll secret');
      }
      const facts = enrollFacts(body);
      if (!facts.serial)
        throw invalid(
          'enroll request has no usable device identity (host_identifier, system_info.uuid or hardware_serial)',
        );
      const nodeKey = randomSecret(32);
      const outcome = await deps.hosts.enroll({
        ...facts,
        nodeKeyHash: sha256Hex(nodeKey),
        enrollSecretName: matched,
        at: now,
      });
      if (outcome.revokedNodeKeyHash) nodeKeys.delete(outcome.revokedNodeKeyHash);
      log.info(
        {
          event: 'host.enrolled',
          serial: outcome.host.serial,
          hostId: outcome.host.id,
          platform: outcome.host.platform,
          reenrolled: outcome.reenrolled,
          secret: matched,
          serialConflict: outcome.host.serialConflict,
        },
        'host enrolled',
      );
      await deps.onEnrolled(outcome.host, outcome.reenrolled);
      return { nodeKey, host: outcome.host };
    },

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
      return commit(host, batch, 'log');
    },

    distributedRead(host) {
      return deps.work.poll(host.id, clock.now());
    },

    async distributedWrite(host, body) {
      const now = clock.now();
      const updates: ResultUpdate[] = [];
      for (const [id, raw] of Object.entries(body.queries)) {
        const rows = Array.isArray(raw) ? raw.map(toRow) : [];
        const status = toInt(body.statuses?.[id], 0);
        const message = body.messages?.[id] ?? '';
        const q = await deps.work.complete(host.id, id, { rows, status, message }, now);
        if (!q) {
          log.debug(
            { event: 'distributed.unknown_id', hostId: host.id, id },
            'result for an unknown distributed query id ignored',
          );
          continue;
        }
        if (q.kind === 'recheck') {
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
      }
      if (updates.length)
        await commit(host, { hostId: host.id, receivedAt: now, results: updates, statuses: [] }, 'distributed_write');
    },

    async carveBegin(host, body) {
      const blockCount = toInt(body.block_count, -1);
      const blockSize = toInt(body.block_size, -1);
      const carveSize = toInt(body.carve_size, -1);
      if (blockCount < 0 || blockSize <= 0 || carveSize < 0 || blockCount > 1_000_000)
        throw invalid('carve sizes must be non-negative integers (block_size > 0)');
      if (blockCount !== Math.ceil(carveSize / blockSize))
        throw invalid(`block_count ${blockCount} does not match ceil(carve_size / block_size)`);
      const sessionId = randomId(16);
      await deps.carves.begin({
        sessionId,
        hostId: host.id,
        carveId: body.carve_id,
        requestId: body.request_id ?? '',
        blockCount,
        blockSize,
        carveSize,
        createdAt: clock.now(),
      });
      log.info(
        { event: 'carve.begin', hostId: host.id, carveId: body.carve_id, blockCount, carveSize },
        'carve started',
      );
      return { sessionId };
    },

    async carveBlock(body) {
      const carve = await deps.carves.get(body.session_id);
      if (!carve) throw unauthenticated('unknown carve session');
      const blockId = toInt(body.block_id, -1);
      if (blockId < 0 || blockId >= carve.blockCount)
        throw invalid(`block_id ${String(body.block_id)} out of range 0..${carve.blockCount - 1}`);
      const data = Buffer.from(body.data, 'base64');
      if (data.length > carve.blockSize) throw invalid('block larger than block_size');
      const after = await deps.carves.addBlock(body.session_id, blockId, data, clock.now());
      if (after.completedAt !== null && carve.completedAt === null)
        log.info({ event: 'carve.complete', carveId: carve.carveId, sessionId: carve.sessionId }, 'carve complete');
    },

    async flushSeen() {
      if (!seen.size) return;
      const batch = [...seen].map(([id, at]) => ({ id, at }));
      seen.clear();
      await deps.hosts.touch(batch);
    },
  };
}
