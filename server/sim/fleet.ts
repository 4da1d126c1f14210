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
 *
 * This module builds the fleet (its shared state and agents) and its controls; what an agent does is
 * in agent/, one part per job (requests, config, schedule, logger, distributed, drift, the loop); the
 * public types are in fleet-api.ts.
 */
import { inFlight, K_START, code, track, type FleetContext } from './agent/context.js';
import { poll } from './agent/distributed.js';
import { flush } from './agent/logger.js';
import { createTicker, startAgent, wakeAll } from './agent/loop.js';
import { runScheduled } from './agent/schedule.js';
import { Agent } from './agent/state.js';
import { createQueryEngine } from './engine.js';
import {
  DEFAULT_FLAGS,
  FLEET_PATHS,
  type AgentInfo,
  type EndpointStats,
  type Fleet,
  type FleetOptions,
  type FleetStats,
  type ProfileMode,
} from './fleet-api.js';
import { DEFAULT_PLATFORM_MIX, hostIdentity, versionAtLeast, type HostIdentity } from './identity.js';
import { buildProfiles, type Profile, type ProfileCatalogue } from './profiles.js';
import { createRng, hashSeed } from './rng.js';
import { createHistogram } from './stats.js';
import { createTimerWheel } from './wheel.js';

export {
  DEFAULT_FLAGS,
  FLEET_PATHS,
  type AckedSet,
  type AgentFlags,
  type AgentInfo,
  type EndpointStats,
  type Fleet,
  type FleetOptions,
  type FleetStats,
  type OsqueryPaths,
  type ProfileMode,
} from './fleet-api.js';
export { calendarTime, judge } from './agent/wire.js';

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

function createAgents(opts: FleetOptions, catalogue: ProfileCatalogue, idOf: (i: number) => HostIdentity): Agent[] {
  const failingShare = opts.failingShare ?? 0.25;
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
  return agents;
}

/** The fleet's shared state, with every agent, from the options. */
function createContext(opts: FleetOptions): FleetContext & { idOf(i: number): HostIdentity } {
  const seed = opts.seed ?? 1;
  const mix = opts.platformMix ?? DEFAULT_PLATFORM_MIX;
  const clock = opts.clock ?? { now: () => Date.now() };
  const catalogue = opts.catalogue ?? buildProfiles();
  const engine = opts.engine ?? createQueryEngine();
  const t0 = clock.now();
  const idOf = (i: number): HostIdentity => hostIdentity(seed, i, mix);
  const endpoint = (): EndpointStats => ({ ok: 0, failed: 0, latency: createHistogram() });
  return {
    opts,
    seed,
    K: opts.timeScale ?? 1,
    t0,
    flags: { ...DEFAULT_FLAGS, ...(opts.flags ?? {}) },
    paths: opts.paths ?? FLEET_PATHS,
    clock,
    catalogue,
    engine,
    transport: opts.transport,
    own: new Set(),
    driftPerHour: opts.driftPerHour ?? 0.05,
    wheel: createTimerWheel(t0, 10),
    rng: createRng(hashSeed(seed, 'fleet')),
    agents: createAgents(opts, catalogue, idOf),
    idOf,
    st: {
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
      firstEnrollAt: null,
      allEnrolledAt: null,
      endpoints: { enroll: endpoint(), config: endpoint(), log: endpoint(), read: endpoint(), write: endpoint() },
    },
    configCache: new Map(),
    running: false,
    paused: false,
    busy: 0,
    sleeping: 0,
  };
}

type Lifecycle = Pick<Fleet, 'start' | 'startNow' | 'stop' | 'tick' | 'idle'>;

/** Starting, ticking, waiting for and stopping the fleet. */
function lifecycle(ctx: FleetContext): Lifecycle {
  const { opts, agents, wheel } = ctx;
  const tick = createTicker(ctx);
  let interval: NodeJS.Timeout | null = null;
  return {
    start() {
      if (ctx.running) return;
      ctx.running = true;
      const ramp = (opts.rampSeconds ?? 0) * 1000;
      const now = ctx.clock.now();
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
      ctx.running = true;
      if ((opts.autoTick ?? true) && !interval) interval = setInterval(tick, 10);
      await Promise.all(agents.map((a) => track(ctx, () => startAgent(ctx, a, o?.spread ?? false))));
    },
    async stop() {
      ctx.running = false;
      if (interval) clearInterval(interval);
      interval = null;
      wheel.clear();
      wakeAll(ctx);
      const deadline = Date.now() + 20_000;
      while ((ctx.busy > 0 || inFlight(ctx) > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    tick,
    async idle() {
      for (;;) {
        for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
        if (ctx.busy - ctx.sleeping <= 0 && inFlight(ctx) === 0) return;
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
}

function statsOf(ctx: FleetContext): FleetStats {
  const { agents, st } = ctx;
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
}

function hostsReporting(ctx: FleetContext): number {
  let n = 0;
  for (const a of ctx.agents) {
    if (a.schedule.length > 0 && a.results.length === 0 && a.ran.every((x) => x === 1)) n++;
  }
  return n;
}

function info(a: Agent): AgentInfo {
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
}

type HostControls = Omit<Fleet, keyof Lifecycle | 'catalogue' | 'engine' | 'stats' | 'hostsReporting' | 'identity'>;

/** What the fleet's user does to single hosts (or all of them) outside their own cadence. */
function hostControls(ctx: FleetContext): HostControls {
  const { agents, catalogue } = ctx;
  const get = (i: number): Agent => {
    const a = agents[i];
    if (!a) throw new Error(`no simulated host ${i}`);
    return a;
  };
  const runAll = (a: Agent): void => {
    for (let q = 0; q < a.schedule.length; q++) runScheduled(ctx, a, q, false);
  };
  return {
    agent: (i) => info(get(i)),
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
      ctx.paused = true;
    },
    async flushAll() {
      await Promise.all(
        agents.map((a) =>
          a.results.length + a.statuses.length > 0 ? track(ctx, () => flush(ctx, a, true)) : Promise.resolve(),
        ),
      );
    },
    ackedSets(i) {
      return [...(get(i).acked?.values() ?? [])];
    },
    pollNow: (i) => track(ctx, () => poll(ctx, get(i))),
    runAllNow(i) {
      const a = get(i);
      runAll(a);
      return a.schedule.length;
    },
    reportNow(i) {
      const a = get(i);
      runAll(a);
      return track(ctx, () => flush(ctx, a, true));
    },
    reportOneNow(i) {
      const a = get(i);
      if (a.schedule.length > 0) {
        runScheduled(ctx, a, a.nextReport % a.schedule.length, false);
        a.nextReport = (a.nextReport + 1) % a.schedule.length;
      }
      return track(ctx, () => flush(ctx, a, true));
    },
    ownConnection(i, t) {
      const a = get(i);
      if (a.transport) ctx.own.delete(a.transport);
      a.transport = t;
      ctx.own.add(t);
    },
  };
}

export function createFleet(opts: FleetOptions): Fleet {
  const ctx = createContext(opts);
  return {
    catalogue: ctx.catalogue,
    engine: ctx.engine,
    ...lifecycle(ctx),
    stats: () => statsOf(ctx),
    hostsReporting: () => hostsReporting(ctx),
    identity: (i) => ctx.idOf(i),
    ...hostControls(ctx),
  };
}
