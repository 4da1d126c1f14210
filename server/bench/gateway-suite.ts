/**
 * `npm run bench -- --gateway`: the gateway's latency under load (issue #16), on a real server process
 * with an enrolled, reported fleet: authz p99 with 2,000 open remediation-page streams; gateway p99 and
 * the server's max event-loop delay (perf_hooks monitorEventLoopDelay, as /metrics reports it) during a
 * bundle rebuild and a policy reload; verdict ÷ bare Node with wrk in the same run (several runs after
 * an uncounted warm-up, each once the server is quiet, each in slices taken in turn), CPU per request as a
 * ratio to the bare server's; and the steady-rate p99 of both while the fleet reports, the two loads
 * interleaved in one window: in its first distributed wave (before the other phases, which then run on a
 * quiet fleet), and last at its own pace, in several windows (as many as wrk runs), each with the fleet's
 * request rate meanwhile. CLI output code.
 */
import https from 'node:https';
import { createFleet } from '../sim/fleet.js';
import { createHttpTransport } from '../sim/transport.js';
import { decisionOf, request, startBareServer } from './clients.js';
import type { Durations } from './figures.js';
import { runLoad, type LoadResult } from './load.js';
import { abba, pausableClock } from './loops.js';
import { enrollment, firstReport, waitQuiet, type Bench } from './phases.js';
import { cpuMs } from './proc.js';
import { startServerProcess } from './server-process.js';
import { mergeWrk, runWrk, wrkAvailable, type WrkResult } from './wrk.js';
import { loadAverage } from './gateway-report.js';

export const PAGE_STREAMS = 2000;
/** Devices whose pages are open: 4 people × 4 pages each (the most per link) per device. */
const PAGES_PER_DEVICE = 16;
const STEADY_RATE = 2000;
const SWAP_RATE = 1000;

/** A wrk run: verdict and bare Node interleaved (wrkRun), each server's slices merged. */
export interface WrkRun {
  verdict: WrkResult;
  bare: WrkResult;
  /** Server CPU-ms per request, verdict and bare. */
  verdictCpuMs: number;
  bareCpuMs: number;
  load: number;
  /** verdict ÷ bare Node req/s in each half of the run (its first two slices, its last two). */
  halves: number[];
}

export interface Swap {
  gateway: LoadResult;
  /** The server's max event-loop delay during the window, ms. */
  maxDelayMs: number;
  /** How long the operation took as the client saw it, ms. */
  ms: number;
}

/** Verdict and bare Node p99 at the steady rate while the fleet reports, interleaved in one window. */
export interface UnderIngest {
  /**
   * `maxDelayMs`: the server's max event-loop delay in the window; `cpuShare`: the server's CPU in the
   * window as a share of one core (ingest throughout, verdicts in their slices).
   */
  verdict: LoadResult & { maxDelayMs: number; cpuShare: number };
  bare: LoadResult;
  load: number;
  /**
   * The fleet's requests per second answered in the window (check-ins, log batches, distributed reads and
   * writes): the ingest both p99s were measured under.
   */
  fleetRate: number;
}

export interface GatewayFigures {
  hosts: number;
  authzIdle: LoadResult & { maxDelayMs: number; load: number };
  authzStreams: LoadResult & { maxDelayMs: number; streams: number; devices: number; load: number };
  bundleRebuild: Swap;
  policyReload: Swap;
  /** What the verdicts the wrk runs ask for answer, sampled just before them. */
  wrkAnswers: AnswerMix;
  wrk: WrkRun[] | null;
  /**
   * While the fleet answers its enrollment-time checks: every host's first distributed read since
   * enrollment (queued at enrollment; the clock stood still through enrollment and the first report).
   */
  wave: UnderIngest & FirstWave;
  /**
   * The fleet reporting at its own pace, after the wave and the phases above: several windows (p99 ratios
   * are noisy here; the report takes their median).
   */
  steady: UnderIngest[];
}

/**
 * A sample of verdict answers: how many allow, and how many name stale checks (the fleet stands still
 * between phases, so at 100k the high tier's results can pass their 15 minutes before the wrk runs).
 */
export interface AnswerMix {
  sampled: number;
  allow: number;
  stale: number;
}

/** How the first wave went: hosts that answered their enrollment-time checks, seconds it took or was given. */
export interface FirstWave {
  answered: number;
  seconds: number;
}

/** The server's max event-loop delay since the last scrape, ms (/metrics resets it on every scrape). */
async function maxLoopDelay(b: Bench): Promise<number> {
  const r = await request(`${b.server.url}/metrics`, b.server.caPem, 'GET', null);
  return Number(/^trustgate_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(r.text)?.[1] ?? Number.NaN) * 1000;
}

/** Opens `count` remediation-page streams on denied devices (4 people × 4 pages each); returns the closer. */
async function openPageStreams(b: Bench, count: number): Promise<{ devices: number; close(): void }> {
  const { server, fleet, n } = b;
  const reqs: Array<{ destroy(): void }> = [];
  let devices = 0;
  for (let i = 0; i < n && reqs.length < count; i++) {
    const serial = fleet.agent(i).serial;
    let opened = 0;
    for (const user of ['ann', 'ben', 'cy', 'dee']) {
      // a person is an e-mail address (domain/identity.ts): a bare name would name nobody, one link for all four
      const q = `serial=${encodeURIComponent(serial)}&resource=wiki&user=${user}%40example.com`;
      const v = (await request(`${server.url}/api/v1/verdict?${q}`, server.caPem, 'GET', server.gatewayToken)).json as {
        remediation_page?: string | null;
      } | null;
      if (!v?.remediation_page) break;
      const search = new URL(v.remediation_page).search;
      for (let k = 0; k < PAGES_PER_DEVICE / 4 && reqs.length < count; k++) {
        await new Promise<void>((resolve, reject) => {
          const req = https.get(`${server.url}/device/events${search}`, { ca: server.caPem, agent: false }, (res) => {
            if (res.statusCode !== 200) reject(new Error(`/device/events answered ${res.statusCode}`));
            res.resume();
            resolve();
          });
          req.on('error', reject);
          reqs.push(req);
        });
        opened++;
      }
    }
    if (opened) devices++;
  }
  return { devices, close: () => reqs.forEach((r) => r.destroy()) };
}

/** The Authorization header of the bench's gateway token. */
const gatewayAuth = (b: Bench): Record<string, string> => ({ authorization: `Bearer ${b.server.gatewayToken}` });

const verdictPaths = (b: Bench, count: number): string[] =>
  Array.from(
    { length: Math.min(b.n, count) },
    (_, i) =>
      `/api/v1/verdict?serial=${encodeURIComponent(b.fleet.agent(i).serial)}&resource=prod-db&user=alice%40example.com`,
  );

async function authzLoad(b: Bench): Promise<LoadResult & { maxDelayMs: number; load: number }> {
  const serials = Array.from({ length: Math.min(b.n, 1000) }, (_, i) => b.fleet.agent(i).serial);
  await maxLoopDelay(b);
  const r = await runLoad({
    kind: 'cannon',
    url: b.server.url,
    caPem: b.server.caPem,
    seconds: b.d.http,
    headers: gatewayAuth(b),
    paths: ['/api/v1/authz'],
    headerSets: serials.map((sn) => ({
      'x-device-serial': sn,
      'x-auth-request-email': 'alice@example.com', // the SSO header Trustgate reads by default
      'x-trustgate-resource': 'prod-db',
    })),
  });
  return { ...r, maxDelayMs: await maxLoopDelay(b), load: loadAverage() };
}

/** Paced verdict load at SWAP_RATE while `op` runs once, 1.5 s in. */
async function duringSwap(b: Bench, op: () => Promise<unknown>): Promise<Swap> {
  const seconds = Math.max(4, b.d.http);
  await maxLoopDelay(b);
  const loading = runLoad({
    kind: 'paced',
    rate: SWAP_RATE,
    url: b.server.url,
    caPem: b.server.caPem,
    seconds,
    headers: gatewayAuth(b),
    paths: verdictPaths(b, 3000),
  });
  await new Promise((r) => setTimeout(r, 2500)); // 1 s of connection set-up (not counted), then 1.5 s
  const t0 = performance.now();
  await op();
  const ms = performance.now() - t0;
  const gateway = await loading;
  return { gateway, maxDelayMs: await maxLoopDelay(b), ms };
}

async function swaps(b: Bench): Promise<{ bundleRebuild: Swap; policyReload: Swap }> {
  const { server } = b;
  const bundle = () => request(`${server.url}/api/v1/verdicts/bundle`, server.caPem, 'GET', server.gatewayToken);
  await bundle(); // built once; the rebuild below follows a policy reload (every device's entry rebuilt)
  b.log(`[${b.n}] policy reload (SIGHUP) under verdict load`);
  const policyReload = await duringSwap(b, async () => {
    process.kill(server.pid, 'SIGHUP');
    // the reload is done when the server answers /readyz again promptly: wait for the loop to come back
    await new Promise((r) => setTimeout(r, 1500));
  });
  b.log(`[${b.n}] bundle rebuild under verdict load`);
  const bundleRebuild = await duringSwap(b, bundle);
  return { bundleRebuild, policyReload };
}

/** Every ANSWER_SAMPLE_STEP-th verdict path is asked once for the answer mix. */
const ANSWER_SAMPLE_STEP = 10;

/** What the verdicts of `paths` answer, from every ANSWER_SAMPLE_STEP-th of them. */
async function answerMix(b: Bench, paths: readonly string[]): Promise<AnswerMix> {
  const mix: AnswerMix = { sampled: 0, allow: 0, stale: 0 };
  for (let i = 0; i < paths.length; i += ANSWER_SAMPLE_STEP) {
    const v = (await request(`${b.server.url}${paths[i]}`, b.server.caPem, 'GET', b.server.gatewayToken)).json as {
      reasons?: Array<{ status?: unknown }>;
    } | null;
    mix.sampled++;
    if (decisionOf(v) === 'allow') mix.allow++;
    if (v?.reasons?.some((r) => r.status === 'stale')) mix.stale++;
  }
  return mix;
}

/** The uncounted wrk run against each server before the measured ones (s). */
const WRK_WARMUP_S = 3;

/** The longest wait for the server to go quiet before a wrk run (s). */
const QUIET_MAX_S = 20;

/**
 * Waits until the server's CPU stays under 5 % of a core for half a second, at most QUIET_MAX_S: the tail
 * of the phase before (a bundle rebuild's garbage collected, a reload's writes) is not charged to the run
 * that follows. Says so when the server did not go quiet.
 */
async function serverQuiet(b: Bench): Promise<void> {
  const t0 = performance.now();
  let c0 = cpuMs(b.server.pid);
  while (performance.now() - t0 < QUIET_MAX_S * 1000) {
    await new Promise((r) => setTimeout(r, 500));
    const c1 = cpuMs(b.server.pid);
    if (c1 - c0 < 25) return;
    c0 = c1;
  }
  b.log(`[${b.n}] the server did not go quiet in ${QUIET_MAX_S} s; measuring anyway`);
}

/**
 * One measured wrk run: verdict and bare Node in four slices of half the run's length each, in the order
 * verdict, bare, bare, verdict (ABBA), so a machine whose speed drifts within the run (this VM's did by half
 * within a minute) slows both alike; each server's slices are merged into its figures.
 */
async function wrkRun(b: Bench, bare: { url: string; pid: number }, paths: string[]): Promise<WrkRun> {
  const sliceS = Math.max(1, Math.round(b.d.http / 2));
  const load = loadAverage();
  // per server (0: verdict, 1: bare Node): its slices and the CPU-ms it spent in them
  const slices: [WrkResult[], WrkResult[]] = [[], []];
  const cpu: [number, number] = [0, 0];
  const halves: number[] = [];
  for (let k = 0; k < 4; k++) {
    const s = abba(k);
    const pid = s ? bare.pid : b.server.pid;
    const c0 = cpuMs(pid);
    slices[s].push(
      s ? await runWrk(bare.url, ['/'], {}, sliceS) : await runWrk(b.server.url, paths, gatewayAuth(b), sliceS),
    );
    cpu[s] += cpuMs(pid) - c0;
    if (k % 2 === 1) halves.push((slices[0].at(-1)?.rps ?? Number.NaN) / (slices[1].at(-1)?.rps ?? Number.NaN));
  }
  const [verdict, bareR] = [mergeWrk(slices[0]), mergeWrk(slices[1])];
  return {
    verdict,
    bare: bareR,
    verdictCpuMs: cpu[0] / Math.max(1, verdict.requests),
    bareCpuMs: cpu[1] / Math.max(1, bareR.requests),
    load,
    halves,
  };
}

async function wrkRuns(b: Bench, runs: number): Promise<WrkRun[] | null> {
  if (!wrkAvailable()) {
    b.log(`wrk not found (${process.env.TRUSTGATE_BENCH_WRK ?? '/usr/bin/wrk'}): skipping the wrk rows`);
    return null;
  }
  const bare = await startBareServer(b.server.certsDir, b.server.allocatorEnv);
  const out: WrkRun[] = [];
  try {
    const paths = verdictPaths(b, 3000);
    // one short run against each first, not counted: both servers' code compiled for this load, and the
    // collection the phase before left pending done before the first measured run
    b.log(`[${b.n}] wrk warm-up (${WRK_WARMUP_S} s each, not counted)`);
    await runWrk(b.server.url, paths, gatewayAuth(b), WRK_WARMUP_S);
    await runWrk(bare.url, ['/'], {}, WRK_WARMUP_S);
    for (let r = 0; r < runs; r++) {
      await serverQuiet(b);
      b.log(`[${b.n}] wrk run ${r + 1} of ${runs} (verdict, bare, bare, verdict)`);
      out.push(await wrkRun(b, bare, paths));
    }
  } finally {
    bare.stop();
  }
  return out;
}

/** Longest wait for the fleet's first distributed wave to pass. */
const WAVE_MAX_S = 480;

/** Requests the fleet has had answered so far, on every endpoint. */
const fleetAnswered = (b: Bench): number => Object.values(b.fleet.stats().endpoints).reduce((sum, e) => sum + e.ok, 0);

/** `run()`'s result, and the fleet's requests per second answered meanwhile. */
async function withFleetRate<T>(b: Bench, run: () => Promise<T>): Promise<[T, number]> {
  const [n0, t0] = [fleetAnswered(b), performance.now()];
  const out = await run();
  return [out, ((fleetAnswered(b) - n0) * 1000) / (performance.now() - t0)];
}

/** Length of each slice of the interleaved loads under ingest (s). */
const STEADY_SLICE_S = 1;

/**
 * Verdict and bare Node p99 at STEADY_RATE in one window, b.d.http seconds each, in slices of
 * STEADY_SLICE_S taken in turn (ABBA) from one client: both measured under the same ingest (the fleet
 * reports in bursts, which two windows one after the other caught several-fold apart) on the same
 * machine at the same moment. The bare server is one of its own.
 */
async function underIngest(b: Bench): Promise<UnderIngest> {
  const bare = await startBareServer(b.server.certsDir, b.server.allocatorEnv);
  try {
    await maxLoopDelay(b);
    const [c0, t0] = [cpuMs(b.server.pid), performance.now()];
    const [r, fleetRate] = await withFleetRate(b, () =>
      runLoad({
        kind: 'paced',
        rate: STEADY_RATE,
        caPem: b.server.caPem,
        seconds: b.d.http,
        url: b.server.url,
        headers: gatewayAuth(b),
        paths: verdictPaths(b, 3000),
        alternate: { url: bare.url, headers: {}, paths: ['/'], sliceSeconds: STEADY_SLICE_S },
      }),
    );
    const cpuShare = (cpuMs(b.server.pid) - c0) / (performance.now() - t0);
    const { alternate, ...verdict } = r;
    if (!alternate) throw new Error('the interleaved load returned no figures for bare Node');
    return {
      verdict: { ...verdict, maxDelayMs: await maxLoopDelay(b), cpuShare },
      bare: alternate,
      load: loadAverage(),
      fleetRate,
    };
  } finally {
    bare.stop();
  }
}

/**
 * Until every host has answered a distributed read (its enrollment-time checks), or WAVE_MAX_S; a line
 * every 10 s with the server's CPU meanwhile (a saturated server, or a fleet that cannot go faster).
 */
async function waveDone(b: Bench, t0: number): Promise<FirstWave> {
  const answered = () => b.fleet.stats().endpoints.write.ok;
  let cpu = cpuMs(b.server.pid);
  let at = performance.now();
  for (let i = 1; answered() < b.n && performance.now() - t0 < WAVE_MAX_S * 1000; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    if (i % 10 === 0) {
      const [c, t] = [cpuMs(b.server.pid), performance.now()];
      const share = Math.round(((c - cpu) / (t - at)) * 100);
      [cpu, at] = [c, t];
      b.log(
        `[${b.n}] hosts that answered their enrollment-time checks: ${answered()} of ${b.n} (server CPU ${share} %)`,
      );
    }
  }
  return { answered: Math.min(b.n, answered()), seconds: (performance.now() - t0) / 1000 };
}

/**
 * The fleet's first distributed wave, right after its first report: the clock resumes and every host
 * reads and answers its enrollment-time checks at once (a mass-enrollment burst). Verdict and bare Node
 * p99 at the steady rate 2 s in, then the wait until every host has answered; the clock stands still
 * again afterwards, so the phases that follow run on a quiet fleet.
 */
async function firstWave(b: Bench): Promise<UnderIngest & FirstWave> {
  b.clock.resume();
  const t0 = performance.now();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const during = await underIngest(b);
    return { ...during, ...(await waveDone(b, t0)) };
  } finally {
    b.clock.pause();
  }
}

/** Verdict and bare Node at the steady rate while the fleet, past its first wave, reports at its own pace. */
async function steadyUnderIngest(b: Bench, windows: number): Promise<UnderIngest[]> {
  b.clock.resume();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const out: UnderIngest[] = [];
    for (let i = 0; i < windows; i++) {
      b.log(`[${b.n}] steady rate under ingest, window ${i + 1} of ${windows}`);
      out.push(await underIngest(b));
    }
    return out;
  } finally {
    b.clock.pause();
  }
}

export async function runGatewaySuite(opts: {
  hosts: number;
  durations: Durations;
  runs: number;
  seed: number;
  log: (m: string) => void;
}): Promise<GatewayFigures> {
  const n = opts.hosts;
  const server = await startServerProcess({});
  const clock = pausableClock();
  const transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 64 });
  const fleet = createFleet({ hosts: n, transport, enrollSecret: server.enrollSecret, clock, seed: opts.seed });
  const b: Bench = { n, d: opts.durations, log: opts.log, server, clock, transport, fleet, ownTransports: [] };
  try {
    await enrollment(b);
    await firstReport(b);
    await waitQuiet(b);
    b.log(`[${n}] the fleet's first distributed wave (enrollment-time checks) under verdict load`);
    const wave = await firstWave(b);
    await waitQuiet(b);
    b.log(`[${n}] authz, no page streams`);
    const authzIdle = await authzLoad(b);
    b.log(`[${n}] opening ${PAGE_STREAMS} page streams`);
    const streams = await openPageStreams(b, PAGE_STREAMS);
    await new Promise((r) => setTimeout(r, 3000));
    b.log(`[${n}] authz with ${PAGE_STREAMS} page streams on ${streams.devices} devices`);
    const withStreams = await authzLoad(b);
    streams.close();
    const authzStreams = { ...withStreams, streams: PAGE_STREAMS, devices: streams.devices };
    await new Promise((r) => setTimeout(r, 1000));
    const { bundleRebuild, policyReload } = await swaps(b);
    const wrkAnswers = await answerMix(b, verdictPaths(b, 3000));
    const wrk = await wrkRuns(b, opts.runs);
    b.log(`[${n}] steady rate under ingest, the fleet at its own pace`);
    const steady = await steadyUnderIngest(b, Math.max(1, opts.runs));
    return { hosts: n, authzIdle, authzStreams, bundleRebuild, policyReload, wrkAnswers, wrk, wave, steady };
  } finally {
    await fleet.stop();
    transport.close();
    fleet.engine.close();
    await server.stop();
  }
}
