/**
 * A simulated osquery fleet: N agents in one process, each a small state machine that behaves as
 * osqueryd does on the wire (see shared osquery-protocol.md): enroll with host_details, fetch and
 * refresh config, run scheduled pack queries at their splayed intervals, buffer results and send them
 * every logger_tls_period (results before statuses, at most logger_tls_max_lines, backoff period·n² on
 * failure), poll distributed/read (integer `accelerate` → 5 s polling), write distributed results,
 * re-enroll on node_invalid.
 *
 * All timers live in one timer wheel driven by one interval (or by hand in tests). Times inside the
 * agents are simulated: sim = t0 + (real − t0)·K, so a time scale K shrinks every interval.
 */
import type { Row } from '../domain/types.js';
import {
  compileConfig,
  inShard,
  OSQUERY_DEFAULT_OPTIONS,
  type AgentOptions,
  type CompiledConfig,
  type ScheduledQuery,
} from './config.js';
import { createQueryEngine, diffOutcomes, type HostRef, type QueryEngine, type QueryOutcome } from './engine.js';
import {
  DEFAULT_PLATFORM_MIX,
  hostIdentity,
  versionAtLeast,
  type HostIdentity,
  type PlatformMix,
  type SimPlatform,
} from './identity.js';
import { DRIFT } from './profile-data/facets.js';
import { buildProfiles, osKeyOf, type Profile, type ProfileCatalogue } from './profiles.js';
import { createRng, hashSeed } from './rng.js';
import { createHistogram, type Histogram } from './stats.js';
import type { PostResult, Transport } from './transport.js';
import { createTimerWheel } from './wheel.js';

export type ProfileMode = 'mixed' | 'compliant' | 'failing';

/** Command-line flags of the simulated osqueryd (config `options` override the runtime ones). */
export interface AgentFlags extends AgentOptions {
  /** --config_refresh seconds (0 = fetch once). CLI-only in osquery. */
  config_refresh: number;
  config_accelerated_refresh: number;
  config_tls_max_attempts: number;
  tls_enroll_max_attempts: number;
  tls_enroll_max_interval: number;
}

/** osquery's defaults overlaid with Trustgate's flag file (osquery-examples/osquery.flags). */
export const DEFAULT_FLAGS: Readonly<AgentFlags> = {
  ...OSQUERY_DEFAULT_OPTIONS,
  host_identifier: 'uuid',
  logger_tls_period: 10,
  logger_tls_compress: true,
  distributed_interval: 60,
  config_refresh: 300,
  config_accelerated_refresh: 60,
  config_tls_max_attempts: 3,
  tls_enroll_max_attempts: 12,
  tls_enroll_max_interval: 600,
};

export interface OsqueryPaths {
  enroll: string;
  config: string;
  log: string;
  read: string;
  write: string;
}

export const FLEET_PATHS: Readonly<OsqueryPaths> = {
  enroll: '/api/v1/osquery/enroll',
  config: '/api/v1/osquery/config',
  log: '/api/v1/osquery/log',
  read: '/api/v1/osquery/distributed/read',
  write: '/api/v1/osquery/distributed/write',
};

export interface FleetOptions {
  hosts: number;
  transport: Transport;
  enrollSecret: string;
  seed?: number;
  profile?: ProfileMode;
  /** Share of failing hosts in `mixed` mode (default 0.25). */
  failingShare?: number;
  /** K: every interval is divided by K (60 → a minute passes in a second). */
  timeScale?: number;
  platformMix?: PlatformMix;
  flags?: Partial<AgentFlags>;
  /** Chance per host per simulated hour that its posture changes (default 0.05). 0 disables drift. */
  driftPerHour?: number;
  /** Spread host start-up over this many real seconds (default 0: all at once). */
  rampSeconds?: number;
  /** Real-time clock in ms (tests inject a manual one). */
  clock?: { now(): number };
  /** Drive the timer wheel with a real interval (default true; tests call tick()). */
  autoTick?: boolean;
  paths?: OsqueryPaths;
  engine?: QueryEngine;
  catalogue?: ProfileCatalogue;
  /** Remember, per host and query, the last result set the server acknowledged (for loss checks). */
  trackAcks?: boolean;
}

export interface EndpointStats {
  ok: number;
  failed: number;
  latency: Histogram;
}

export interface FleetStats {
  hosts: number;
  started: number;
  enrolled: number;
  checkedIn: number;
  failing: number;
  enrollRequests: number;
  nodeInvalid: number;
  resultLinesAcked: number;
  statusLinesAcked: number;
  resultRowsAcked: number;
  bufferedLines: number;
  queriesRun: number;
  distributedRun: number;
  driftEvents: number;
  endpoints: Record<keyof OsqueryPaths, EndpointStats>;
  firstEnrollAt: number | null;
  allEnrolledAt: number | null;
}

export interface AckedSet {
  logName: string;
  rows: readonly Row[];
  /** False when the set cannot be compared exactly (differential query with removed:false). */
  exact: boolean;
  unixTime: number;
}

export interface AgentInfo {
  index: number;
  serial: string;
  hostname: string;
  platform: SimPlatform;
  profile: string;
  facets: readonly string[];
  enrolled: boolean;
  buffered: number;
}

export interface Fleet {
  readonly catalogue: ProfileCatalogue;
  readonly engine: QueryEngine;
  start(): void;
  /**
   * Starts every host at once (enroll, first config) and resolves when all have tried; their timers
   * then run from the fleet's clock. `spread` gives each host a random phase for its first poll and
   * flush, as in a fleet that has been running for a while.
   */
  startNow(opts?: { spread?: boolean }): Promise<void>;
  /** Stops every timer; in-flight requests finish. */
  stop(): Promise<void>;
  /** Fires every timer due at the clock's now. */
  tick(): void;
  /** Resolves when no agent operation is running except ones asleep on a timer. */
  idle(): Promise<void>;
  stats(): FleetStats;
  agent(index: number): AgentInfo;
  identity(index: number): HostIdentity;
  /** Moves a host to another profile (by name) at once. */
  setProfile(index: number, profile: string): void;
  /** The host fixes everything (compliant profile of its platform; OS updated if outdated). */
  fix(index: number): Profile;
  /** Stops running scheduled queries (logging and polling go on): used to reach a quiet state. */
  pauseSchedules(): void;
  /** Sends every buffered line now (ignoring the period); resolves when done. */
  flushAll(): Promise<void>;
  /** Acknowledged result sets per host (trackAcks). */
  ackedSets(index: number): AckedSet[];
  /** Hosts whose scheduled queries each ran at least once and whose buffers are empty. */
  hostsReporting(): number;
  /** Polls distributed/read now (and writes results), outside the host's own cadence. */
  pollNow(index: number): Promise<void>;
  /** Runs every scheduled query of the host now (results go to its buffer). */
  runAllNow(index: number): number;
  /** runAllNow, then sends the buffer at once (one log batch per max_lines). */
  reportNow(index: number): Promise<void>;
  /**
   * Runs the host's next scheduled query (round robin) and sends the buffer at once: the batch a host
   * sends at osquery defaults, where splay gives every query of a pack its own moment to run.
   */
  reportOneNow(index: number): Promise<void>;
  /**
   * Gives one host its own connection (as every real agent has) instead of the fleet's shared pool:
   * a measured host's requests then wait for the server, not behind the rest of the simulated fleet.
   */
  ownConnection(index: number, transport: Transport): void;
}

// Timer kinds (low bits of a wheel code).
const K_START = 0;
const K_FLUSH = 1;
const K_POLL = 2;
const K_CONFIG = 3;
const K_DRIFT = 4;
const K_WAKE = 5; // +0..3: sleepers (enroll, config, poll, flush)
const K_QUERY = 16;
const KINDS = 4096;
const GEN_BITS = 16;

interface LogItem {
  q: ScheduledQuery;
  unixTime: number;
  epoch: number;
  counter: number;
  action: 'added' | 'removed' | 'snapshot' | 'batch';
  row: Row | null;
  rows: readonly Row[] | null;
  removedRows: readonly Row[] | null;
  outcome: QueryOutcome;
}

interface StatusItem {
  unixTime: number;
  severity: number;
  filename: string;
  line: number;
  message: string;
}

class Agent implements HostRef {
  nodeKey: string | null = null;
  enrolling: Promise<string | null> | null = null;
  config: CompiledConfig | null = null;
  schedule: readonly ScheduledQuery[] = [];
  gen = 0;
  prev: Array<QueryOutcome | null> = [];
  counters: number[] = [];
  ran: Uint8Array = new Uint8Array(0);
  results: LogItem[] = [];
  statuses: StatusItem[] = [];
  resFail = 0;
  stFail = 0;
  resNextOk = 0;
  stNextOk = 0;
  accelerateUntil = 0;
  pendingWrite: {
    queries: Record<string, Row[]>;
    statuses: Record<string, number>;
    messages: Record<string, string>;
    stats: Record<string, Record<string, number>>;
  } | null = null;
  checkedIn = false;
  started = false;
  hostIdentifier = '';
  acked: Map<string, AckedSet> | null = null;
  /** This host's own connection (ownConnection), instead of the fleet's shared pool. */
  transport: Transport | null = null;
  /** Next query reportOneNow runs. */
  nextReport = 0;
  wakers: Array<(() => void) | null> = [null, null, null, null];
  wakeGen = 0;
  constructor(
    readonly index: number,
    public profile: Profile,
    readonly osqueryVersion: string,
    private readonly idOf: (i: number) => HostIdentity,
  ) {}
  private id: HostIdentity | undefined;
  identity(): HostIdentity {
    // derived from (seed, index) only: computed once per host
    return (this.id ??= this.idOf(this.index));
  }
  stateValue(token: string): string | undefined {
    switch (token) {
      case 'config_hash':
        return this.config?.hash ?? '';
      case 'config_valid':
        return this.config ? '1' : '0';
      case 'osquery_version':
        return this.osqueryVersion;
      default:
        return undefined;
    }
  }
  stateKey(): string {
    return this.config?.hash ?? '';
  }
}

const PLATFORM_TYPE: Record<SimPlatform, string> = { darwin: '21', windows: '2', linux: '9' };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** osquery's calendarTime: asctime() in UTC plus " UTC", e.g. "Fri Jul  2 04:33:36 2021 UTC". */
export function calendarTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()} UTC`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What osquery's TLSRequestHelper makes of a response body. */
export function judge(r: PostResult): 'ok' | 'node_invalid' | 'error' {
  if (!r.ok) return 'error';
  if (!isRecord(r.json)) return 'error';
  if (r.json['node_invalid'] === true) return 'node_invalid';
  if ('error' in r.json) return 'error';
  return 'ok';
}

/** Picks a host's initial profile from the catalogue according to the mode. */
export function initialProfile(
  cat: ProfileCatalogue,
  id: HostIdentity,
  mode: ProfileMode,
  failingShare: number,
): Profile {
  const failing = mode === 'failing' || (mode === 'mixed' && id.profileDraw < failingShare);
  const rng = createRng(hashSeed(id.serial, 'profile'));
  const list = failing ? cat.failing(id.platform) : cat.compliant(id.platform);
  return rng.weighted(list);
}

export function createFleet(opts: FleetOptions): Fleet {
  const seed = opts.seed ?? 1;
  const K = opts.timeScale ?? 1;
  const mix = opts.platformMix ?? DEFAULT_PLATFORM_MIX;
  const flags: AgentFlags = { ...DEFAULT_FLAGS, ...(opts.flags ?? {}) };
  const paths = opts.paths ?? FLEET_PATHS;
  const clock = opts.clock ?? { now: () => Date.now() };
  const catalogue = opts.catalogue ?? buildProfiles();
  const engine = opts.engine ?? createQueryEngine();
  const transport = opts.transport;
  const driftPerHour = opts.driftPerHour ?? 0.05;
  const failingShare = opts.failingShare ?? 0.25;
  const t0 = clock.now();
  const wheel = createTimerWheel(t0, 10);
  const rng = createRng(hashSeed(seed, 'fleet'));

  const simNow = (): number => t0 + (clock.now() - t0) * K;
  const realOf = (simMs: number): number => t0 + (simMs - t0) / K;
  const simSec = (): number => Math.floor(simNow() / 1000);

  const idOf = (i: number): HostIdentity => hostIdentity(seed, i, mix);
  const agents: Agent[] = [];
  for (let i = 0; i < opts.hosts; i++) {
    const id = idOf(i);
    // A compliant fleet runs a supported osquery everywhere.
    const version =
      opts.profile === 'compliant' && !versionAtLeast(id.osqueryVersion, '5.12.0') ? '5.12.1' : id.osqueryVersion;
    const a = new Agent(i, initialProfile(catalogue, id, opts.profile ?? 'mixed', failingShare), version, idOf);
    if (opts.trackAcks) a.acked = new Map();
    agents.push(a);
  }

  const endpoint = (): EndpointStats => ({ ok: 0, failed: 0, latency: createHistogram() });
  const st = {
    started: 0,
    enrolled: 0,
    checkedIn: 0,
    enrollRequests: 0,
    nodeInvalid: 0,
    resultLinesAcked: 0,
    statusLinesAcked: 0,
    resultRowsAcked: 0,
    queriesRun: 0,
    distributedRun: 0,
    driftEvents: 0,
    firstEnrollAt: null as number | null,
    allEnrolledAt: null as number | null,
    endpoints: {
      enroll: endpoint(),
      config: endpoint(),
      log: endpoint(),
      read: endpoint(),
      write: endpoint(),
    } as Record<keyof OsqueryPaths, EndpointStats>,
  };

  let running = false;
  let paused = false;
  let busy = 0;
  let sleeping = 0;
  let interval: NodeJS.Timeout | null = null;

  const code = (a: Agent, kind: number, gen: number): number => (a.index * KINDS + kind) * GEN_BITS + (gen % GEN_BITS);
  const at = (a: Agent, kind: number, simMs: number, gen = a.gen): void => {
    if (!running) return;
    wheel.schedule(realOf(simMs), code(a, kind, gen));
  };

  /** Sleeps `simMs` of simulated time on the wheel (osquery's retry sleeps). */
  const sleep = (a: Agent, slot: number, simMs: number): Promise<void> =>
    new Promise((resolve) => {
      if (!running) return resolve();
      sleeping++;
      a.wakers[slot] = () => {
        sleeping--;
        resolve();
      };
      wheel.schedule(realOf(simNow() + simMs), code(a, K_WAKE + slot, a.wakeGen));
    });

  const track = async (fn: () => Promise<void>): Promise<void> => {
    busy++;
    try {
      await fn();
    } finally {
      busy--;
    }
  };

  const opt = (a: Agent): AgentOptions => a.config?.options ?? flags;

  const headers = (a: Agent, key: string | null): Record<string, string> | undefined =>
    key && versionAtLeast(a.osqueryVersion, '5.23.0') ? { Authorization: `NodeKey ${key}` } : undefined;

  /** Requests queued or in flight on the shared pool and on hosts' own connections. */
  const own = new Set<Transport>();
  const inFlight = (): number => {
    let n = transport.inFlight();
    for (const t of own) n += t.inFlight();
    return n;
  };

  const post = async (
    a: Agent,
    name: keyof OsqueryPaths,
    body: unknown,
    hdrs?: Record<string, string>,
    gzip = false,
  ): Promise<PostResult> => {
    const r = await (a.transport ?? transport).post(paths[name], body, { headers: hdrs, gzip });
    const e = st.endpoints[name];
    e.latency.record(r.ms);
    if (judge(r) === 'ok') e.ok++;
    else e.failed++;
    return r;
  };

  const addStatus = (a: Agent, severity: number, filename: string, line: number, message: string): void => {
    if (opt(a).tls_disable_status_log) return;
    a.statuses.push({ unixTime: simSec(), severity, filename, line, message });
    trimBuffers(a);
  };

  const trimBuffers = (a: Agent): void => {
    const max = opt(a).buffered_log_max;
    if (max <= 0) return;
    const over = a.results.length + a.statuses.length - max;
    if (over > 0) {
      // Purge the oldest lines (results are older on average than fresh status lines).
      const fromResults = Math.min(over, a.results.length);
      a.results.splice(0, fromResults);
      a.statuses.splice(0, over - fromResults);
    }
  };

  const hostIdentifierOf = (a: Agent): string => {
    const id = a.identity();
    switch (opt(a).host_identifier) {
      case 'uuid':
        return id.uuid;
      case 'instance':
      case 'ephemeral':
        return id.instanceId;
      default:
        return id.hostname;
    }
  };

  // ───────────── enroll ─────────────

  const hostDetails = (a: Agent): Record<string, Row> => {
    const out: Record<string, Row> = {};
    for (const t of ['os_version', 'osquery_info', 'system_info', 'platform_info']) {
      const rows = engine.tableRows(a.profile, t, a);
      const first = rows[0];
      if (first) out[t] = first;
    }
    return out;
  };

  const enrollOnce = async (a: Agent): Promise<string | null> => {
    st.enrollRequests++;
    const id = a.identity();
    const body = {
      enroll_secret: opts.enrollSecret,
      host_identifier: a.hostIdentifier || id.hostname,
      platform_type: PLATFORM_TYPE[id.platform],
      host_details: hostDetails(a),
    };
    const r = await post(a, 'enroll', body);
    // The enroll plugin reads only node_key (or the legacy `id`); node_invalid and error are ignored.
    if (r.ok && isRecord(r.json)) {
      const key =
        typeof r.json['node_key'] === 'string'
          ? r.json['node_key']
          : typeof r.json['id'] === 'string'
            ? r.json['id']
            : '';
      if (key !== '') return key;
    }
    return null;
  };

  const getNodeKey = (a: Agent): Promise<string | null> => {
    if (a.nodeKey) return Promise.resolve(a.nodeKey);
    if (a.enrolling) return a.enrolling;
    a.enrolling = (async () => {
      const max = flags.tls_enroll_max_attempts;
      for (let attempt = 1; running && (max === 0 || attempt <= max); attempt++) {
        const key = await enrollOnce(a);
        if (key) {
          a.nodeKey = key;
          st.enrolled++;
          const now = clock.now();
          st.firstEnrollAt ??= now;
          if (st.enrolled >= agents.length && st.allEnrolledAt === null) st.allEnrolledAt = now;
          return key;
        }
        addStatus(
          a,
          1,
          'tls_enroll.cpp',
          102,
          `Failed enrollment request to ${paths.enroll} (No node key returned from TLS enroll plugin) retrying...`,
        );
        await sleep(a, 0, Math.min(attempt * attempt, flags.tls_enroll_max_interval) * 1000);
      }
      return null;
    })();
    const p = a.enrolling;
    void p.finally(() => {
      if (a.enrolling === p) a.enrolling = null;
    });
    return p;
  };

  const clearKey = (a: Agent): void => {
    if (a.nodeKey !== null) {
      a.nodeKey = null;
      st.enrolled--;
    }
    st.nodeInvalid++;
  };

  /** One request through osquery's TLSRequestHelper::go: node key first, node_invalid clears it. */
  const go = async (
    a: Agent,
    name: keyof OsqueryPaths,
    extra: Record<string, unknown>,
    attempts: number,
    slot: number,
    gzip = false,
  ): Promise<PostResult | null> => {
    for (let i = 1; i <= attempts && running; i++) {
      const key = await getNodeKey(a);
      if (key) {
        const r = await post(a, name, { ...extra, node_key: key }, headers(a, key), gzip);
        const verdict = judge(r);
        if (verdict === 'ok') return r;
        if (verdict === 'node_invalid') clearKey(a);
      }
      if (i < attempts) await sleep(a, slot, i * i * 1000);
    }
    return null;
  };

  // ───────────── config ─────────────

  const applyConfig = (a: Agent, r: PostResult): void => {
    if (!r.ok) return;
    const text = r.text;
    let compiled = configCache.get(text);
    if (!compiled) {
      compiled = compileConfig(r.json, flags, text);
      if (configCache.size > 32) configCache.clear();
      configCache.set(text, compiled);
    }
    if (a.config?.hash === compiled.hash) return;
    const before = new Map<string, { prev: QueryOutcome | null; counter: number; sql: string }>();
    a.schedule.forEach((q, i) =>
      before.set(q.logName, { prev: a.prev[i] ?? null, counter: a.counters[i] ?? -1, sql: q.sql }),
    );
    a.config = compiled;
    a.hostIdentifier = hostIdentifierOf(a);
    a.schedule = compiled.scheduleFor(a.profile.platform);
    a.prev = a.schedule.map((q) => {
      const b = before.get(q.logName);
      return b && b.sql === q.sql ? b.prev : null;
    });
    a.counters = a.schedule.map((q) => {
      const b = before.get(q.logName);
      return b && b.sql === q.sql ? b.counter : -1;
    });
    a.ran = new Uint8Array(a.schedule.length);
    a.gen++;
    a.schedule.forEach((q, i) => scheduleQuery(a, i));
  };
  const configCache = new Map<string, CompiledConfig>();

  const fetchConfig = async (a: Agent): Promise<boolean> => {
    const r = await go(a, 'config', {}, flags.config_tls_max_attempts, 1);
    if (!r) {
      addStatus(a, 1, 'config.cpp', 340, 'Error reading config: Request failed');
      return false;
    }
    applyConfig(a, r);
    return true;
  };

  // ───────────── scheduled queries ─────────────

  const splayed = (a: Agent, q: ScheduledQuery): number => {
    const pct = opt(a).schedule_splay_percent;
    if (pct <= 0) return q.interval;
    const span = Math.floor((q.interval * pct) / 100);
    if (span === 0) return q.interval;
    const r = hashSeed(seed, a.index, q.logName) / 4294967296;
    return Math.max(1, q.interval - span + Math.floor(r * (2 * span + 1)));
  };

  const scheduleQuery = (a: Agent, i: number): void => {
    const q = a.schedule[i];
    if (!q) return;
    const v = splayed(a, q);
    // osquery's scheduler runs a query when the current second is a multiple of its splayed interval.
    const now = simSec();
    const next = (Math.floor(now / v) + 1) * v;
    at(a, K_QUERY + i, next * 1000);
  };

  const runScheduled = (a: Agent, i: number, reschedule = true): void => {
    const q = a.schedule[i];
    if (!q) return;
    if (paused && reschedule) return scheduleQuery(a, i);
    if (q.version && !versionAtLeast(a.osqueryVersion, q.version)) return;
    if (!inShard(a.identity().hostname, q.shard)) return;
    for (const d of q.discovery) {
      const o = engine.run(a.profile, d, a);
      if (!o.ok || o.rows.length === 0) return reschedule ? scheduleQuery(a, i) : undefined;
    }
    st.queriesRun++;
    const out = engine.run(a.profile, q.sql, a);
    a.ran[i] = 1;
    const o = opt(a);
    const now = simSec();
    if (!out.ok) {
      addStatus(a, 2, 'scheduler.cpp', 101, `Error executing scheduled query ${q.logName}: ${out.message}`);
    } else if (q.snapshot) {
      if (o.logger_snapshot_event_type) {
        for (const row of out.rows)
          a.results.push({
            q,
            unixTime: now,
            epoch: o.schedule_epoch,
            counter: 0,
            action: 'snapshot',
            row,
            rows: null,
            removedRows: null,
            outcome: out,
          });
      } else {
        a.results.push({
          q,
          unixTime: now,
          epoch: o.schedule_epoch,
          counter: 0,
          action: 'snapshot',
          row: null,
          rows: out.rows,
          removedRows: null,
          outcome: out,
        });
      }
    } else {
      const prev = a.prev[i] ?? null;
      const first = (a.counters[i] ?? -1) < 0;
      const diff = diffOutcomes(first ? null : prev, out);
      a.prev[i] = out;
      const removed = q.removed ? diff.removed : [];
      if (first) a.counters[i] = 0;
      if (diff.added.length > 0 || removed.length > 0) {
        if (!first) a.counters[i] = (a.counters[i] ?? 0) + 1;
        const counter = a.counters[i] ?? 0;
        if (o.logger_event_type) {
          for (const row of removed)
            a.results.push({
              q,
              unixTime: now,
              epoch: o.schedule_epoch,
              counter,
              action: 'removed',
              row,
              rows: null,
              removedRows: null,
              outcome: out,
            });
          for (const row of diff.added)
            a.results.push({
              q,
              unixTime: now,
              epoch: o.schedule_epoch,
              counter,
              action: 'added',
              row,
              rows: null,
              removedRows: null,
              outcome: out,
            });
        } else {
          a.results.push({
            q,
            unixTime: now,
            epoch: o.schedule_epoch,
            counter,
            action: 'batch',
            row: null,
            rows: diff.added,
            removedRows: removed,
            outcome: out,
          });
        }
      }
    }
    trimBuffers(a);
    if (reschedule) scheduleQuery(a, i);
  };

  // ───────────── logger ─────────────

  const serializeResult = (a: Agent, it: LogItem): Record<string, unknown> => {
    const common = {
      name: it.q.logName,
      hostIdentifier: a.hostIdentifier,
      calendarTime: calendarTime(it.unixTime),
      unixTime: it.unixTime,
      epoch: it.epoch,
      counter: it.counter,
      numerics: false,
    };
    if (it.action === 'snapshot' && it.rows) return { snapshot: it.rows, action: 'snapshot', ...common };
    if (it.action === 'batch')
      return { diffResults: { added: it.rows ?? [], removed: it.removedRows ?? [] }, ...common };
    return { ...common, columns: it.row ?? {}, action: it.action };
  };

  const serializeStatus = (a: Agent, s: StatusItem): Record<string, unknown> => {
    const numeric = versionAtLeast(a.osqueryVersion, '5.10.0');
    return {
      hostIdentifier: a.hostIdentifier,
      calendarTime: calendarTime(s.unixTime),
      unixTime: numeric ? s.unixTime : String(s.unixTime),
      severity: numeric ? s.severity : String(s.severity),
      filename: s.filename,
      line: numeric ? s.line : String(s.line),
      message: s.message,
      version: a.osqueryVersion,
    };
  };

  const backoff = (o: AgentOptions, n: number): number => {
    if (o.logger_tls_backoff_max <= 0) return 0;
    return Math.min(o.logger_tls_period * n * n, o.logger_tls_backoff_max) * 1000;
  };

  const recordAcks = (a: Agent, items: readonly LogItem[]): void => {
    let rows = 0;
    for (const it of items) {
      rows += it.row ? 1 : (it.rows?.length ?? 0) + (it.removedRows?.length ?? 0);
      if (a.acked) {
        const exact = it.q.snapshot || it.q.removed;
        a.acked.set(it.q.logName, { logName: it.q.logName, rows: it.outcome.rows, exact, unixTime: it.unixTime });
      }
    }
    st.resultRowsAcked += rows;
  };

  /** osquery's BufferedLogForwarder::check(): up to max_lines, results first, then statuses. */
  const flush = async (a: Agent, force: boolean): Promise<void> => {
    const o = opt(a);
    const now = simNow();
    const max = o.logger_tls_max_lines > 0 ? o.logger_tls_max_lines : 1024;
    const sendResults = a.results.length > 0 && (force || now >= a.resNextOk);
    const nRes = sendResults ? Math.min(a.results.length, max) : 0;
    const sendStatuses = a.statuses.length > 0 && (force || now >= a.stNextOk) && nRes < max;
    const nSt = sendStatuses ? Math.min(a.statuses.length, max - nRes) : 0;
    if (nRes > 0) {
      const items = a.results.slice(0, nRes);
      const r = await go(
        a,
        'log',
        { log_type: 'result', data: items.map((it) => serializeResult(a, it)) },
        1,
        3,
        o.logger_tls_compress,
      );
      if (r) {
        // Exactly the lines that were sent are deleted.
        const idx = a.results.indexOf(items[0] as LogItem);
        if (idx >= 0) a.results.splice(idx, nRes);
        a.resFail = 0;
        st.resultLinesAcked += nRes;
        recordAcks(a, items);
      } else {
        a.resFail++;
        a.resNextOk = simNow() + backoff(o, a.resFail);
      }
    }
    if (nSt > 0) {
      const items = a.statuses.slice(0, nSt);
      const r = await go(
        a,
        'log',
        { log_type: 'status', data: items.map((s) => serializeStatus(a, s)) },
        1,
        3,
        o.logger_tls_compress,
      );
      if (r) {
        const idx = a.statuses.indexOf(items[0] as StatusItem);
        if (idx >= 0) a.statuses.splice(idx, nSt);
        a.stFail = 0;
        st.statusLinesAcked += nSt;
      } else {
        a.stFail++;
        a.stNextOk = simNow() + backoff(o, a.stFail);
      }
    }
  };

  // ───────────── distributed ─────────────

  const runDistributed = (a: Agent, queries: Record<string, unknown>, discovery: Record<string, unknown>): void => {
    // One failing discovery query drops the whole response (osquery ≥ 5.8).
    const skip = new Set<string>();
    for (const [id, sql] of Object.entries(discovery)) {
      if (typeof sql !== 'string' || sql === '') return;
      const o = engine.run(a.profile, sql, a);
      if (!o.ok) return;
      if (o.rows.length === 0) skip.add(id);
    }
    for (const [id, sql] of Object.entries(queries)) {
      if (typeof sql !== 'string' || sql === '' || id === '') break;
      if (skip.has(id)) continue;
      const started = performance.now();
      const o = engine.run(a.profile, sql, a);
      st.distributedRun++;
      const w = a.pendingWrite ?? { queries: {}, statuses: {}, messages: {}, stats: {} };
      w.queries[id] = o.ok ? o.rows.map((r) => ({ ...r })) : [];
      w.statuses[id] = o.ok ? 0 : 1;
      w.messages[id] = o.message;
      w.stats[id] = { wall_time_ms: Math.round(performance.now() - started), user_time: 0, system_time: 0, memory: 0 };
      a.pendingWrite = w;
    }
  };

  const poll = async (a: Agent): Promise<void> => {
    const o = opt(a);
    if (o.disable_distributed) return;
    const r = await go(a, 'read', {}, o.distributed_tls_max_attempts, 2);
    if (r && r.ok && isRecord(r.json)) {
      if (!a.checkedIn) {
        a.checkedIn = true;
        st.checkedIn++;
      }
      const acc = r.json['accelerate'];
      if (typeof acc === 'number' && Number.isInteger(acc) && acc > 0) a.accelerateUntil = simNow() + acc * 1000;
      const queries = isRecord(r.json['queries']) ? r.json['queries'] : {};
      const discovery = isRecord(r.json['discovery']) ? r.json['discovery'] : {};
      runDistributed(a, queries, discovery);
    }
    if (a.pendingWrite) {
      const w = a.pendingWrite;
      const wr = await go(a, 'write', { ...w }, o.distributed_tls_max_attempts, 2);
      // On failure the results stay in memory and go out, merged, with the next poll.
      if (wr && a.pendingWrite === w) a.pendingWrite = null;
    }
  };

  // ───────────── drift ─────────────

  const drift = (a: Agent): void => {
    const p = a.profile;
    let next: Profile | undefined;
    if (p.facets.length > 0 && rng.next() < 0.6) {
      // Something resolves: encryption finishes, an update installs, a person fixes a setting.
      const fixable = p.facets.filter((f) => DRIFT.resolves.includes(f));
      const f = fixable.length ? rng.pick(fixable) : undefined;
      if (f === 'os_outdated')
        next = catalogue.fixed(p).facets.length === 0 && p.facets.length === 1 ? catalogue.fixed(p) : undefined;
      else if (f)
        next = catalogue.find(
          p.platform,
          osKeyOf(p),
          p.facets.filter((x) => x !== f),
        );
    } else if (p.facets.length === 0) {
      const f = rng.pick(DRIFT.breaks[p.platform]);
      next = catalogue.find(p.platform, osKeyOf(p), [f]);
    }
    if (next && next !== p) {
      a.profile = next;
      st.driftEvents++;
    }
  };

  const scheduleDrift = (a: Agent): void => {
    if (driftPerHour <= 0) return;
    // Exponential waiting time with the given rate per simulated hour.
    const hours = -Math.log(1 - rng.next()) / driftPerHour;
    at(a, K_DRIFT, simNow() + hours * 3_600_000);
  };

  // ───────────── the loop ─────────────

  const startAgent = async (a: Agent, spread = false): Promise<void> => {
    if (a.started) return;
    a.started = true;
    st.started++;
    a.hostIdentifier = hostIdentifierOf(a);
    addStatus(a, 0, 'init.cpp', 434, `osqueryd started [version=${a.osqueryVersion}]`);
    await fetchConfig(a);
    const now = simNow();
    const period = opt(a).logger_tls_period * 1000;
    at(a, K_FLUSH, now + (spread ? rng.next() * period : period));
    at(a, K_POLL, now + (spread ? rng.next() * opt(a).distributed_interval * 1000 : 0));
    if (flags.config_refresh > 0) at(a, K_CONFIG, now + flags.config_refresh * 1000);
    scheduleDrift(a);
  };

  const fire = (c: number): void => {
    const gen = c % GEN_BITS;
    const rest = Math.floor(c / GEN_BITS);
    const kind = rest % KINDS;
    const a = agents[Math.floor(rest / KINDS)];
    if (!a) return;
    if (kind >= K_WAKE && kind < K_QUERY) {
      const w = a.wakers[kind - K_WAKE];
      a.wakers[kind - K_WAKE] = null;
      if (w) w();
      return;
    }
    if (kind >= K_QUERY) {
      if (gen !== a.gen % GEN_BITS) return;
      runScheduled(a, kind - K_QUERY);
      return;
    }
    switch (kind) {
      case K_START:
        void track(() => startAgent(a));
        break;
      case K_FLUSH:
        void track(async () => {
          await flush(a, false);
          at(a, K_FLUSH, simNow() + opt(a).logger_tls_period * 1000);
        });
        break;
      case K_POLL:
        void track(async () => {
          await poll(a);
          const accelerated = simNow() < a.accelerateUntil;
          at(a, K_POLL, simNow() + (accelerated ? 5 : opt(a).distributed_interval) * 1000);
        });
        break;
      case K_CONFIG:
        void track(async () => {
          const ok = await fetchConfig(a);
          at(a, K_CONFIG, simNow() + (ok ? flags.config_refresh : flags.config_accelerated_refresh) * 1000);
        });
        break;
      case K_DRIFT:
        drift(a);
        scheduleDrift(a);
        break;
      default:
        break;
    }
  };

  let lastTick = -1;
  const tick = (): void => {
    const s = simSec();
    if (s !== lastTick) {
      lastTick = s;
      engine.setTick(s);
    }
    wheel.advance(clock.now(), fire);
  };

  const wakeAll = (): void => {
    for (const a of agents) {
      for (let s = 0; s < a.wakers.length; s++) {
        const w = a.wakers[s];
        a.wakers[s] = null;
        if (w) w();
      }
      a.wakeGen++;
    }
  };

  const info = (a: Agent): AgentInfo => {
    const id = a.identity();
    return {
      index: a.index,
      serial: id.serial,
      hostname: id.hostname,
      platform: id.platform,
      profile: a.profile.name,
      facets: a.profile.facets,
      enrolled: a.nodeKey !== null,
      buffered: a.results.length + a.statuses.length,
    };
  };

  const get = (i: number): Agent => {
    const a = agents[i];
    if (!a) throw new Error(`no simulated host ${i}`);
    return a;
  };

  return {
    catalogue,
    engine,
    start() {
      if (running) return;
      running = true;
      const ramp = (opts.rampSeconds ?? 0) * 1000;
      const now = clock.now();
      for (const a of agents) {
        const offset = ramp > 0 ? (a.index / agents.length) * ramp : 0;
        wheel.schedule(now + offset, code(a, K_START, a.gen));
      }
      if (opts.autoTick ?? true) {
        interval = setInterval(tick, 10);
        tick();
      }
    },
    async startNow(o) {
      running = true;
      if ((opts.autoTick ?? true) && !interval) interval = setInterval(tick, 10);
      await Promise.all(agents.map((a) => track(() => startAgent(a, o?.spread ?? false))));
    },
    async stop() {
      running = false;
      if (interval) clearInterval(interval);
      interval = null;
      wheel.clear();
      wakeAll();
      const deadline = Date.now() + 20_000;
      while ((busy > 0 || inFlight() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    tick,
    async idle() {
      for (;;) {
        for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
        if (busy - sleeping <= 0 && inFlight() === 0) return;
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    stats() {
      let buffered = 0;
      let failing = 0;
      for (const a of agents) {
        buffered += a.results.length + a.statuses.length;
        if (a.profile.facets.length > 0) failing++;
      }
      return {
        hosts: agents.length,
        started: st.started,
        enrolled: st.enrolled,
        checkedIn: st.checkedIn,
        failing,
        enrollRequests: st.enrollRequests,
        nodeInvalid: st.nodeInvalid,
        resultLinesAcked: st.resultLinesAcked,
        statusLinesAcked: st.statusLinesAcked,
        resultRowsAcked: st.resultRowsAcked,
        bufferedLines: buffered,
        queriesRun: st.queriesRun,
        distributedRun: st.distributedRun,
        driftEvents: st.driftEvents,
        endpoints: st.endpoints,
        firstEnrollAt: st.firstEnrollAt,
        allEnrolledAt: st.allEnrolledAt,
      };
    },
    agent: (i) => info(get(i)),
    identity: (i) => idOf(i),
    setProfile(i, name) {
      const p = catalogue.byName.get(name);
      if (!p) throw new Error(`unknown profile ${name}`);
      get(i).profile = p;
    },
    fix(i) {
      const a = get(i);
      a.profile = catalogue.fixed(a.profile);
      return a.profile;
    },
    pauseSchedules() {
      paused = true;
    },
    async flushAll() {
      await Promise.all(
        agents.map((a) => (a.results.length + a.statuses.length > 0 ? track(() => flush(a, true)) : Promise.resolve())),
      );
    },
    ackedSets(i) {
      return [...(get(i).acked?.values() ?? [])];
    },
    pollNow: (i) => track(() => poll(get(i))),
    runAllNow(i) {
      const a = get(i);
      for (let q = 0; q < a.schedule.length; q++) runScheduled(a, q, false);
      return a.schedule.length;
    },
    reportNow(i) {
      const a = get(i);
      for (let q = 0; q < a.schedule.length; q++) runScheduled(a, q, false);
      return track(() => flush(a, true));
    },
    reportOneNow(i) {
      const a = get(i);
      if (a.schedule.length > 0) {
        runScheduled(a, a.nextReport % a.schedule.length, false);
        a.nextReport = (a.nextReport + 1) % a.schedule.length;
      }
      return track(() => flush(a, true));
    },
    ownConnection(i, t) {
      const a = get(i);
      if (a.transport) own.delete(a.transport);
      a.transport = t;
      own.add(t);
    },
    hostsReporting() {
      let n = 0;
      for (const a of agents) {
        if (a.schedule.length > 0 && a.results.length === 0 && a.ran.every((x) => x === 1)) n++;
      }
      return n;
    },
  };
}
