/**
 * The osquery TLS remote API as a service: enroll → config → log → distributed → carve.
 * Transport-free: handler.ts adapts HTTP to these calls. Every write is acknowledged only after the
 * store has durably committed it (the store group-commits concurrent batches). It calls out, never back
 * in: pending queries and attention come from the DistributedWork port, cached node keys from a
 * NodeKeyCache that unenroll drops keys from, packs and posture from functions it is given. This file
 * owns authentication (node key, and in the certificate modes the connection's certificate against the
 * host's binding: an O(1) check per request; marking the host seen in the LastSeen registry), ingest (log
 * batches and recheck answers); a host held pending for an admin is answered without packs, queries or
 * storage. Enrollment is in enroll.ts (decided by enroll-gate.ts), carves in carves.ts.
 */
import type {
  CarveRepo,
  DistributedRepo,
  DistributedPoll,
  DistributedWork,
  HostRepo,
  LastSeen,
  NodeKeyCache,
  ResultRepo,
} from '../domain/ports.js';
import type { Host, IngestBatch, LatestResult, PresentedCert, ResultUpdate } from '../domain/types.js';
import { modeNeedsCertificate } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { AppError, forbidden, unauthenticated } from '../shared/errors.js';
import { sha256Hex } from '../shared/crypto.js';
import { TtlCache } from '../shared/ttl-cache.js';
import { addCarveBlock, beginCarve, type CarveLimits } from './carves.js';
import { enroll, type EnrollDeps } from './enroll.js';
import { certificateCheck } from './enroll-gate.js';
import { normalizeResults, normalizeStatuses, toInt, toRow } from './normalize.js';
import type { CarveBeginBody, CarveBlockBody, DistributedWriteBody, EnrollBody, LogBody } from './schemas.js';

export interface OsqueryDeps extends Omit<EnrollDeps, 'hosts' | 'metrics'> {
  hosts: Pick<HostRepo, 'enroll' | 'findBySerial' | 'countPending' | 'findByNodeKeyHash' | 'bindCert' | 'get'>;
  results: Pick<ResultRepo, 'ingestBatch'>;
  /** Pending distributed queries and attention (shared with the control plane). */
  work: Pick<DistributedWork, 'poll' | 'complete'>;
  /** Hosts by node-key hash (shared with unenroll, which drops keys). */
  nodeKeys: NodeKeyCache;
  /** When each host last spoke (the one owner of last-seen times; it writes them to the store). */
  lastSeen: Pick<LastSeen, 'mark'>;
  carves: CarveRepo;
  /** The live queries handed out to hosts (a carve must answer one). */
  sentQueries: Pick<DistributedRepo, 'sentSince'>;
  /** Caps on carve sizes (absent: none beyond the schema's). */
  carveLimits?: CarveLimits;
  /** Compiled config JSON text for a host (packs filtered by platform, checks stripped). */
  configFor(host: Host): string;
  /** Result log `name` → canonical query key. */
  queryKeyOf(logName: string): string;
  /** Check id → its query key (for recheck answers arriving through distributed/write). */
  checkQueryKey(checkId: string): string | undefined;
  /** The query key is scheduled by the loaded packs: results of any other query are acknowledged, not stored. */
  isScheduled(queryKey: string): boolean;
  /** Called after a committed batch changed latest results: evaluates posture. */
  onResults(host: Host, latest: LatestResult[]): Promise<void> | void;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}

export interface OsqueryService {
  /** `cert`: the connection's client certificate (certificate modes), null when it presented none. */
  enroll(body: EnrollBody, cert?: PresentedCert | null): Promise<{ nodeKey: string; host: Host }>;
  authenticate(nodeKey: string | undefined, cert?: PresentedCert | null): Promise<Host>;
  config(host: Host): string;
  log(host: Host, body: LogBody): Promise<{ rows: number; skipped: number }>;
  distributedRead(host: Host): Promise<DistributedPoll>;
  distributedWrite(host: Host, body: DistributedWriteBody): Promise<void>;
  carveBegin(host: Host, body: CarveBeginBody): Promise<{ sessionId: string }>;
  /** `sender`: the host the block's node key authenticates, when it carries one (osquery 5.23+). */
  carveBlock(body: CarveBlockBody, sender?: Host): Promise<void>;
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
 * Completes the answered distributed queries; the answers to rechecks and enrollment-time checks become
 * result updates of their check's query (live-query answers are only stored with their campaign).
 */
async function recheckUpdates(
  deps: Pick<OsqueryDeps, 'work' | 'checkQueryKey' | 'log' | 'metrics'>,
  host: Host,
  body: DistributedWriteBody,
  now: number,
): Promise<ResultUpdate[]> {
  const answers = Object.entries(body.queries).map(([id, raw]) => {
    const rows = Array.isArray(raw) ? raw.map(toRow) : [];
    const status = toInt(body.statuses?.[id], 0);
    return { id, answer: { rows, status, message: body.messages?.[id] ?? '' } };
  });
  // every answer of the write in one transaction
  const completed = answers.length ? await deps.work.complete(host.id, answers, now) : [];
  const updates: ResultUpdate[] = [];
  for (const [i, { id, answer }] of answers.entries()) {
    const { rows, status, message } = answer;
    const q = completed[i];
    if (!q) {
      deps.log.debug(
        { event: 'distributed.unknown_id', hostId: host.id, id },
        'result for an unknown distributed query id ignored',
      );
      deps.metrics?.unscheduledDropped.inc({ endpoint: 'distributed_write' });
      continue;
    }
    if (q.kind !== 'recheck' && q.kind !== 'enroll') continue;
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

/**
 * The updates of queries Trustgate scheduled; the others (invented names, packs since removed) are dropped
 * and counted. They are still acknowledged with `{}`: an error would keep them buffered on the agent.
 */
function scheduledOnly(deps: Pick<OsqueryDeps, 'isScheduled' | 'metrics'>, updates: ResultUpdate[]): ResultUpdate[] {
  const kept = updates.filter((u) => deps.isScheduled(u.queryKey));
  if (kept.length < updates.length)
    deps.metrics?.unscheduledDropped.inc({ endpoint: 'log' }, updates.length - kept.length);
  return kept;
}

/** The config of a host held pending: the options, no packs (cached per config text; a handful exist). */
function pendingConfigs(): (config: string) => string {
  const cache = new Map<string, string>();
  return (config) => {
    let out = cache.get(config);
    if (out === undefined) {
      const { options } = JSON.parse(config) as { options?: unknown };
      out = JSON.stringify({ options: options ?? {}, packs: {} });
      if (cache.size >= 64) cache.clear();
      cache.set(config, out);
    }
    return out;
  };
}

/** Holds a host to its certificate (certificate modes); a renewal rebinds, audited. */
async function checkCertificate(
  deps: Pick<OsqueryDeps, 'clock' | 'revoked' | 'log' | 'metrics' | 'hosts' | 'devices'>,
  host: Host,
  cert: PresentedCert | null,
): Promise<void> {
  const check = certificateCheck(host, cert, deps.clock.now(), (sha) => deps.revoked(sha));
  if (check.kind === 'ok') return;
  if (check.kind === 'refuse') {
    deps.log.warn(
      { event: 'host.certificate_refused', serial: host.serial, hostId: host.id, why: check.message },
      'osquery request refused: certificate',
    );
    deps.metrics?.enrollRefused.inc({ reason: 'request_certificate' });
    throw unauthenticated(`client certificate refused: ${check.message}`);
  }
  await deps.hosts.bindCert(host.id, check.to);
  const from = host.cert;
  host.cert = check.to;
  deps.devices.deviceEvent({ type: 'device.cert_rebound', host, from, to: check.to });
}

export function createOsqueryService(deps: OsqueryDeps): OsqueryService {
  const { clock, nodeKeys } = deps;
  const certs = modeNeedsCertificate(deps.enrollment.mode);
  const pendingConfig = pendingConfigs();
  const enrollDeps: EnrollDeps = { ...deps, ...(deps.metrics ? { metrics: deps.metrics } : {}) };

  /** A pending host's request is acknowledged but nothing is stored or evaluated (counted). */
  const pendingDrop = (endpoint: string): void => deps.metrics?.pendingDropped.inc({ endpoint });

  return {
    enroll: (body, cert) => enroll(enrollDeps, body, cert ?? null),

    async authenticate(nodeKey, cert) {
      if (!nodeKey) throw unauthenticated('missing node key');
      const hash = sha256Hex(nodeKey);
      let host = nodeKeys.get(hash);
      if (!host) {
        host = await deps.hosts.findByNodeKeyHash(hash);
        if (!host) throw unauthenticated('invalid node key');
        nodeKeys.set(hash, host);
      }
      if (certs) await checkCertificate(deps, host, cert ?? null);
      deps.lastSeen.mark(host.id, clock.now());
      return host;
    },

    config(host) {
      const config = deps.configFor(host);
      return host.enrollState === 'pending' ? pendingConfig(config) : config;
    },

    async log(host, body) {
      if (host.enrollState === 'pending') {
        pendingDrop('log');
        return { rows: 0, skipped: 0 };
      }
      const data = Array.isArray(body.data) ? body.data : [];
      const batch: IngestBatch = { hostId: host.id, receivedAt: clock.now(), results: [], statuses: [] };
      if (body.log_type === 'status') batch.statuses = normalizeStatuses(data);
      else batch.results = scheduledOnly(deps, normalizeResults(data, deps.queryKeyOf));
      return commitBatch(deps, host, batch, 'log');
    },

    async distributedRead(host) {
      if (host.enrollState === 'pending') return { queries: {} };
      return deps.work.poll(host.id, clock.now());
    },

    async distributedWrite(host, body) {
      if (host.enrollState === 'pending') {
        pendingDrop('distributed_write');
        return;
      }
      const now = clock.now();
      const updates = await recheckUpdates(deps, host, body, now);
      if (updates.length) {
        const batch = { hostId: host.id, receivedAt: now, results: updates, statuses: [] };
        await commitBatch(deps, host, batch, 'distributed_write');
      }
    },

    async carveBegin(host, body) {
      if (host.enrollState === 'pending') throw forbidden('this device is waiting for approval: no carves');
      return beginCarve(deps, host, body);
    },
    carveBlock: (body, sender) => addCarveBlock(deps, body, sender),
  };
}
