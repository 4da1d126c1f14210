/**
 * The measuring phases of one bench run, in the order runAtSize runs them, each over the same Bench
 * (server process, simulated fleet, the fleet's clock and connections): enrollment, check-ins, the
 * fleet's first posture report, steady-state log ingest, results lost, TLS handshakes, gateway load
 * beside a bare Node server, and the cold start with its outage replay. The fix → access phase is in
 * fix-access.ts.
 */
import type { Fleet } from '../sim/fleet.js';
import type { Transport } from '../sim/transport.js';
import { startBareServer, tlsRate } from './clients.js';
import { OUTAGE_QUEUE_MAX, VERDICT_FIXED_RATE, type Durations } from './figures.js';
import { runLoad } from './load.js';
import { closedLoop, eachOnce, type PausableClock } from './loops.js';
import { countLost } from './loss.js';
import { cpuMs, rssBytes } from './proc.js';
import type { ServerProcess } from './server-process.js';

export interface Bench {
  /** Fleet size. */
  n: number;
  d: Durations;
  log: (msg: string) => void;
  server: ServerProcess;
  /** The fleet's clock: paused while a phase measures in isolation. */
  clock: PausableClock;
  /** The fleet's shared pool of 64 connections. */
  transport: Transport;
  fleet: Fleet;
  /** Connections of the hosts measured in the fix → access phase (their own, see there). */
  ownTransports: Transport[];
}

export const endpoints = (b: Bench): ReturnType<Fleet['stats']>['endpoints'] => b.fleet.stats().endpoints;

/** Waits until no request of the shared pool is queued or in flight. */
/** Requests under way on the shared transport and on the hosts' own connections. */
const inFlight = (b: Bench): number =>
  (b.ownTransports ?? []).reduce((sum, t) => sum + t.inFlight(), b.transport.inFlight());

export async function waitQuiet(b: Bench): Promise<void> {
  while (inFlight(b) > 0) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Collects the bench process's own garbage before a latency phase (with `--expose-gc`, as `npm run
 * bench` runs): the loss check just parsed every stored result, and the collector of a 100k-host
 * fleet's heap runs on the same cores as the server, showing up as server latency otherwise.
 */
export async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 1000));
}

/** Every host starts at once (enroll, then its first config), nothing else running. */
export async function enrollment(b: Bench) {
  const { n, d, server, clock, fleet } = b;
  b.log(`[${n}] enrolling`);
  clock.pause();
  const t0 = Date.now();
  const cpuEnroll0 = cpuMs(server.pid);
  const starting = fleet.startNow({ spread: true });
  const deadline = t0 + d.enrollTimeout * 1000;
  // Hosts whose enrollment failed (a refused or reset handshake in the storm) retry after a back-off on the
  // fleet's clock: when nothing is in flight and hosts are still missing, let that clock run, else the
  // phase would wait for its deadline with every remaining host asleep.
  let idleSince: number | null = null;
  while (fleet.stats().enrolled < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    if (inFlight(b) > 0) idleSince = null;
    else if (idleSince === null) idleSince = Date.now();
    else if (Date.now() - idleSince > 2000) clock.resume();
  }
  clock.pause();
  // Wall time (the fleet's own clock stands still during this phase).
  const enrollSeconds = (Date.now() - t0) / 1000;
  const st = fleet.stats();
  const enrollPerSec = st.enrolled / enrollSeconds;
  const enrolled = st.enrolled;
  // Hosts whose enrollment failed sleep on the fleet's clock before retrying: let it run if needed.
  const settled = await Promise.race([
    starting.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
  ]);
  if (!settled) {
    clock.resume();
    await Promise.race([starting, new Promise((r) => setTimeout(r, 120_000))]);
    clock.pause();
  }
  const cpuPerStart = (cpuMs(server.pid) - cpuEnroll0) / Math.max(1, enrolled);
  await new Promise((r) => setTimeout(r, 1000));
  const rssMiB = rssBytes(server.pid) / 2 ** 20;
  await waitQuiet(b);
  return { enrollPerSec, enrollSeconds, enrolled, cpuPerStart, rssMiB };
}

/** distributed/read check-ins (closed loop, keep-alive). */
export async function checkIns(b: Bench) {
  const { n, d, server, fleet } = b;
  b.log(`[${n}] check-ins`);
  endpoints(b).read.latency.reset();
  const cpu0 = cpuMs(server.pid);
  const reads = await closedLoop(n, 64, d.phase, (i) => fleet.pollNow(i));
  const readCpu = cpuMs(server.pid) - cpu0;
  const readP50 = endpoints(b).read.latency.percentile(50);
  const readP99 = endpoints(b).read.latency.percentile(99);
  return { reads, readCpu, readP50, readP99 };
}

/** Log batches (1): the fleet's first posture report, every host's whole schedule in one batch. */
export async function firstReport(b: Bench) {
  const { n, server, fleet } = b;
  b.log(`[${n}] first posture report of every host`);
  endpoints(b).log.latency.reset();
  const okBefore = endpoints(b).log.ok;
  const cpu0 = cpuMs(server.pid);
  const tLog = performance.now();
  const rowsBefore = fleet.stats().resultRowsAcked;
  await eachOnce(n, 64, (i) => fleet.reportNow(i));
  const firstReportSeconds = (performance.now() - tLog) / 1000;
  const firstCpu = cpuMs(server.pid) - cpu0;
  const firstBatches = endpoints(b).log.ok - okBefore;
  const firstRows = fleet.stats().resultRowsAcked - rowsBefore;
  const firstReportP50 = endpoints(b).log.latency.percentile(50);
  const firstReportP99 = endpoints(b).log.latency.percentile(99);
  let queriesPerHost = 0;
  for (let i = 0; i < Math.min(n, 300); i++) queriesPerHost += fleet.ackedSets(i).length;
  queriesPerHost /= Math.min(n, 300);
  await waitQuiet(b);
  return { firstReportSeconds, firstCpu, firstBatches, firstRows, firstReportP50, firstReportP99, queriesPerHost };
}

/** Log batches (2): steady state at osquery defaults, one query's snapshot per batch. */
export async function steadyLogs(b: Bench) {
  const { n, d, server, fleet } = b;
  b.log(`[${n}] log batches (steady state)`);
  endpoints(b).log.latency.reset();
  const okBefore = endpoints(b).log.ok;
  const rowsBefore = fleet.stats().resultRowsAcked;
  const linesBefore = fleet.stats().resultLinesAcked;
  const cpu0 = cpuMs(server.pid);
  const tLog = performance.now();
  // at most one operation per host at a time, so a batch holds just the query that ran
  await closedLoop(n, Math.min(64, n), d.phase, (i) => fleet.reportOneNow(i));
  const logSeconds = (performance.now() - tLog) / 1000;
  const logCpu = cpuMs(server.pid) - cpu0;
  const batches = endpoints(b).log.ok - okBefore;
  const rows = fleet.stats().resultRowsAcked - rowsBefore;
  const lines = fleet.stats().resultLinesAcked - linesBefore;
  const logP50 = endpoints(b).log.latency.percentile(50);
  const logP99 = endpoints(b).log.latency.percentile(99);
  return { logSeconds, logCpu, batches, rows, lines, logP50, logP99 };
}

/** Every buffered line sent, then every acknowledged set compared with the server's file. */
export async function resultsLost(b: Bench): Promise<{ checked: number; lost: number }> {
  await b.fleet.flushAll();
  await waitQuiet(b);
  return countLost(b.server.dbPath, b.fleet, b.n);
}

/** TLS handshakes per second, full and resumed. */
export async function tlsHandshakes(b: Bench) {
  const { server } = b;
  b.log(`[${b.n}] TLS handshakes`);
  await settle();
  const full = await tlsRate('127.0.0.1', server.port, server.caPem, b.d.tls, false);
  const resumed = await tlsRate('127.0.0.1', server.port, server.caPem, b.d.tls, true);
  return { full, resumed };
}

/** GET /api/v1/verdict and /api/v1/authz at saturation and at a steady rate, beside a bare Node server. */
export async function gatewayLoad(b: Bench) {
  const { n, d, server, fleet } = b;
  b.log(`[${n}] verdict and authz load`);
  const serials = Array.from({ length: Math.min(n, 1000) }, (_, i) => fleet.agent(i).serial);
  const auth = { authorization: `Bearer ${server.gatewayToken}` };
  const verdictPaths = serials.map(
    (sn) => `/api/v1/verdict?serial=${encodeURIComponent(sn)}&resource=prod-db&user=alice%40example.com`,
  );
  const load = { url: server.url, caPem: server.caPem, seconds: d.http, headers: auth };
  await settle();
  const verdict = await runLoad({ ...load, kind: 'cannon', paths: verdictPaths });
  const authz = await runLoad({
    ...load,
    kind: 'cannon',
    paths: ['/api/v1/authz'],
    headerSets: serials.map((sn) => ({
      'x-device-serial': sn,
      'x-auth-request-email': 'alice@example.com',
      'x-trustgate-resource': 'prod-db',
    })),
  });
  await settle();
  const verdictFixed = await runLoad({ ...load, kind: 'paced', rate: VERDICT_FIXED_RATE, paths: verdictPaths });
  const bareServer = await startBareServer(server.certsDir, server.allocatorEnv);
  const bareLoad = { url: bareServer.url, caPem: server.caPem, seconds: d.http, headers: {}, paths: ['/'] };
  await settle();
  const bare = await runLoad({ ...bareLoad, kind: 'cannon' });
  await settle();
  const bareFixed = await runLoad({ ...bareLoad, kind: 'paced', rate: VERDICT_FIXED_RATE });
  bareServer.stop();
  return { verdict, authz, verdictFixed, bare, bareFixed };
}

/**
 * Cold start with N hosts stored, then the outage replay: a backlog arrives at once; beyond its queue
 * the server must answer error, and lose nothing.
 */
export async function coldStartAndOutage(b: Bench) {
  const { n, d, server, fleet, transport } = b;
  b.log(`[${n}] cold start`);
  // The replay below runs against a small ingest queue so that a burst can overflow it.
  const coldStartMs = await server.restart({ TRUSTGATE_INGEST_QUEUE_MAX: String(OUTAGE_QUEUE_MAX) });
  b.log(`[${n}] outage replay`);
  const replayHosts = Math.min(n, d.outageHosts);
  for (let i = 0; i < replayHosts; i++) for (let r = 0; r < d.outageRuns; r++) fleet.runAllNow(i);
  const logOk0 = endpoints(b).log.ok;
  const logFail0 = endpoints(b).log.failed;
  transport.setConcurrency?.(1024);
  const tOut = Date.now();
  for (let round = 0; round < 30 && fleet.stats().bufferedLines > 0; round++) {
    await fleet.flushAll();
    await waitQuiet(b);
  }
  const outageDrainSeconds = (Date.now() - tOut) / 1000;
  transport.setConcurrency?.(64);
  const outageLost = countLost(server.dbPath, fleet, n);
  return {
    coldStartMs,
    outageBatches: endpoints(b).log.ok - logOk0 + (endpoints(b).log.failed - logFail0),
    outageErrors: endpoints(b).log.failed - logFail0,
    outageLost: outageLost.lost,
    outageDrainSeconds,
  };
}
