/**
 * The simulated fleet's public face: its options, the osqueryd flags and paths it uses by default, the
 * figures it keeps (FleetStats), what it tells about a host (AgentInfo, AckedSet), and the Fleet
 * interface createFleet (fleet.ts) returns.
 */
import type { Row } from '../domain/types.js';
import { OSQUERY_DEFAULT_OPTIONS, type AgentOptions } from './config.js';
import type { QueryEngine } from './engine.js';
import type { HostIdentity, PlatformMix, SimPlatform } from './identity.js';
import type { Profile, ProfileCatalogue } from './profiles.js';
import type { Histogram } from './stats.js';
import type { Transport } from './transport.js';

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
