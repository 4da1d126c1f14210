/**
 * What every part of a simulated agent shares (FleetContext): the fleet's settings, clock, timer wheel,
 * counters and agents; simulated time (sim = t0 + (real − t0)·K); the timer codes on the wheel; and the
 * small helpers every part uses: the options in force, status lines, the buffer limit, sleeping on the
 * wheel, counting work in progress.
 */
import type { AgentOptions, CompiledConfig } from '../config.js';
import type { QueryEngine } from '../engine.js';
import type { AgentFlags, EndpointStats, FleetOptions, OsqueryPaths } from '../fleet-api.js';
import type { ProfileCatalogue } from '../profiles.js';
import type { Rng } from '../rng.js';
import type { Transport } from '../transport.js';
import type { TimerWheel } from '../wheel.js';
import type { Agent } from './state.js';

/** The fleet's running totals (FleetStats adds what is counted over the agents). */
export interface FleetCounters {
  started: number;
  enrolled: number;
  checkedIn: number;
  enrollRequests: number;
  nodeInvalid: number;
  resultLinesAcked: number;
  statusLinesAcked: number;
  resultRowsAcked: number;
  queriesRun: number;
  distributedRun: number;
  driftEvents: number;
  firstEnrollAt: number | null;
  allEnrolledAt: number | null;
  endpoints: Record<keyof OsqueryPaths, EndpointStats>;
}

export interface FleetContext {
  readonly opts: FleetOptions;
  readonly seed: number;
  /** Time scale: every interval is divided by K. */
  readonly K: number;
  /** Real time the fleet was created at, where simulated and real time meet. */
  readonly t0: number;
  readonly flags: AgentFlags;
  readonly paths: OsqueryPaths;
  readonly clock: { now(): number };
  readonly catalogue: ProfileCatalogue;
  readonly engine: QueryEngine;
  /** The shared pool of connections. */
  readonly transport: Transport;
  /** Hosts' own connections (ownConnection). */
  readonly own: Set<Transport>;
  readonly driftPerHour: number;
  readonly wheel: TimerWheel;
  readonly rng: Rng;
  readonly agents: readonly Agent[];
  readonly st: FleetCounters;
  /** Compiled configs by response text (hosts of a platform get the same one). */
  readonly configCache: Map<string, CompiledConfig>;
  /** Timers are scheduled only while running. */
  running: boolean;
  /** Scheduled queries are not run (pauseSchedules). */
  paused: boolean;
  /** Agent operations in progress, and how many of them sleep on the wheel. */
  busy: number;
  sleeping: number;
}

// Timer kinds (low bits of a wheel code).
export const K_START = 0;
export const K_FLUSH = 1;
export const K_POLL = 2;
export const K_CONFIG = 3;
export const K_DRIFT = 4;
export const K_WAKE = 5; // +0..3: sleepers (enroll, config, poll, flush)
export const K_QUERY = 16;
export const KINDS = 4096;
export const GEN_BITS = 16;

export const simNow = (ctx: FleetContext): number => ctx.t0 + (ctx.clock.now() - ctx.t0) * ctx.K;
export const realOf = (ctx: FleetContext, simMs: number): number => ctx.t0 + (simMs - ctx.t0) / ctx.K;
export const simSec = (ctx: FleetContext): number => Math.floor(simNow(ctx) / 1000);

/** The wheel code of an agent's timer: agent, kind, and the generation it belongs to. */
export const code = (a: Agent, kind: number, gen: number): number =>
  (a.index * KINDS + kind) * GEN_BITS + (gen % GEN_BITS);

/** Schedules an agent's timer at simulated time `simMs` (nothing once the fleet stopped). */
export function at(ctx: FleetContext, a: Agent, kind: number, simMs: number, gen = a.gen): void {
  if (!ctx.running) return;
  ctx.wheel.schedule(realOf(ctx, simMs), code(a, kind, gen));
}

/** Sleeps `simMs` of simulated time on the wheel (osquery's retry sleeps). */
export const sleep = (ctx: FleetContext, a: Agent, slot: number, simMs: number): Promise<void> =>
  new Promise((resolve) => {
    if (!ctx.running) return resolve();
    ctx.sleeping++;
    a.wakers[slot] = () => {
      ctx.sleeping--;
      resolve();
    };
    ctx.wheel.schedule(realOf(ctx, simNow(ctx) + simMs), code(a, K_WAKE + slot, a.wakeGen));
  });

/** Runs an agent operation, counted as work in progress. */
export async function track(ctx: FleetContext, fn: () => Promise<void>): Promise<void> {
  ctx.busy++;
  try {
    await fn();
  } finally {
    ctx.busy--;
  }
}

/** The options in force: the config's, or the flags before a config arrived. */
export const opt = (ctx: FleetContext, a: Agent): AgentOptions => a.config?.options ?? ctx.flags;

/** Requests queued or in flight on the shared pool and on hosts' own connections. */
export function inFlight(ctx: FleetContext): number {
  let n = ctx.transport.inFlight();
  for (const t of ctx.own) n += t.inFlight();
  return n;
}

/** Drops the oldest lines above buffered_log_max. */
export function trimBuffers(ctx: FleetContext, a: Agent): void {
  const max = opt(ctx, a).buffered_log_max;
  if (max <= 0) return;
  const over = a.results.length + a.statuses.length - max;
  if (over > 0) {
    // Purge the oldest lines (results are older on average than fresh status lines).
    const fromResults = Math.min(over, a.results.length);
    a.results.splice(0, fromResults);
    a.statuses.splice(0, over - fromResults);
  }
}

/** Buffers a status log line (unless tls_disable_status_log). */
export function addStatus(
  ctx: FleetContext,
  a: Agent,
  severity: number,
  filename: string,
  line: number,
  message: string,
): void {
  if (opt(ctx, a).tls_disable_status_log) return;
  a.statuses.push({ unixTime: simSec(ctx), severity, filename, line, message });
  trimBuffers(ctx, a);
}

/** The host identifier osquery reports, per --host_identifier. */
export function hostIdentifierOf(ctx: FleetContext, a: Agent): string {
  const id = a.identity();
  switch (opt(ctx, a).host_identifier) {
    case 'uuid':
      return id.uuid;
    case 'instance':
    case 'ephemeral':
      return id.instanceId;
    default:
      return id.hostname;
  }
}
