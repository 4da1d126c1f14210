/**
 * One bench run at one fleet size: a real `trustgate serve` process loaded by a simulated fleet in this
 * process. Server CPU and RSS come from /proc/<pid>; results lost are counted by comparing what agents
 * were acknowledged for with the server's SQLite file (latest_results, opened read-only).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import Database from 'better-sqlite3';
import { createFleet, type Fleet } from '../sim/fleet.js';
import { createHttpTransport, type Transport } from '../sim/transport.js';
import { benchEvaluations } from '../posture/bench.js';
import { percentile, runLoad } from './load.js';
import { cpuMs, rssBytes } from './proc.js';
import { freePort, startServerProcess, type ServerProcess } from './server-process.js';

/** Ingest queue bound used for the outage replay (the default is 2000 waiting batches). */
export const OUTAGE_QUEUE_MAX = 64;

export interface Durations {
  /** Seconds of each closed-loop load phase (check-ins, log batches). */
  phase: number;
  /** Seconds of each HTTP load (autocannon) run. */
  http: number;
  /** Seconds of each TLS handshake run. */
  tls: number;
  /** Hosts that fix themselves and ask for a recheck. */
  fixes: number;
  /** Max seconds to wait for full enrollment. */
  enrollTimeout: number;
  /** Hosts (at most) that replay a backlog in the outage scenario, and runs each buffers. */
  outageHosts: number;
  outageRuns: number;
  /** Seconds over which the fixes are spread (a distributed_interval, so every polling phase is hit). */
  fixSpread: number;
  /**
   * Seconds a person spends between opening the remediation page and finishing the fix (uniform in
   * [min, max]): reading the failed check, opening the settings, changing them.
   */
  fixMinutesMin: number;
  fixMinutesMax: number;
}

export const FULL: Durations = {
  phase: 10,
  http: 10,
  tls: 3,
  fixes: 20,
  enrollTimeout: 2400,
  outageHosts: 20_000,
  outageRuns: 5,
  fixSpread: 60,
  fixMinutesMin: 1,
  fixMinutesMax: 2,
};
export const QUICK: Durations = {
  phase: 1,
  http: 1,
  tls: 0.5,
  fixes: 2,
  enrollTimeout: 60,
  outageHosts: 200,
  outageRuns: 3,
  fixSpread: 1,
  fixMinutesMin: 0,
  fixMinutesMax: 0,
};

/** Request rate of the fixed-rate verdict run (latency at a steady load, not at saturation). */
export const VERDICT_FIXED_RATE = 2000;

export interface BenchFigures {
  hosts: number;
  enrollPerSec: number;
  enrollSeconds: number;
  enrolled: number;
  /** Server CPU per host start-up (enroll + first config). */
  cpuMsPerStart: number;
  rssMiB: number;
  /** Peak resident memory (VmHWM) from start to just before the cold-start restart. */
  peakRssMiB: number;
  readsPerSec: number;
  readP50: number;
  readP99: number;
  cpuMsPer1kReads: number;
  /** The fleet's first posture report: every host sends its whole schedule once. */
  firstReportSeconds: number;
  firstReportBatchesPerSec: number;
  firstReportRowsPerSec: number;
  firstReportP50: number;
  firstReportP99: number;
  cpuMsPer1kFirstReports: number;
  /** Steady state: one query's snapshot per batch, results mostly unchanged. */
  batchesPerSec: number;
  rowsPerSec: number;
  linesPerBatch: number;
  logP50: number;
  logP99: number;
  cpuMsPer1kBatches: number;
  queriesPerHost: number;
  hostsPerCore: number;
  impliedCoresFor100k: number;
  cores: number;
  /** Server cores used while the whole fleet runs at its own pace (the fix → access phase). */
  paceCores: number;
  paceSeconds: number;
  paceReadsPerSec: number;
  paceLogsPerSec: number;
  resultSetsChecked: number;
  resultsLost: number;
  tlsFullPerSec: number;
  tlsResumedPerSec: number;
  tlsResumedShare: number;
  verdictRps: number;
  verdictP50: number;
  verdictP99: number;
  verdictFixedRate: number;
  verdictFixedP50: number;
  verdictFixedP99: number;
  bareFixedP50: number;
  bareFixedP99: number;
  authzRps: number;
  authzP50: number;
  authzP99: number;
  bareRps: number;
  bareP50: number;
  bareP99: number;
  evaluationsPerSec: number | null;
  evaluationsNote: string;
  coldStartMs: number;
  /** A person opens the remediation page, fixes the device, presses Recheck. */
  fixAccessP50: number;
  fixAccessP95: number;
  fixAccessMeasured: number;
  /** An admin asks for a recheck (POST /api/v1/hosts/:serial/recheck) without the page: waits for the next poll. */
  adminFixAccessP50: number;
  adminFixAccessP95: number;
  adminFixAccessMeasured: number;
  outageBatches: number;
  outageErrors: number;
  outageLost: number;
  outageDrainSeconds: number;
}

export interface RunOptions {
  hosts: number;
  durations: Durations;
  seed?: number;
  cores: number;
  log?: (msg: string) => void;
  /** Extra TRUSTGATE_* settings for the server (the bench itself uses the defaults). */
  serverEnv?: Record<string, string>;
}

/** A clock that can stand still: the fleet sees no time pass while the bench measures in isolation. */
export function pausableClock(): { now(): number; pause(): void; resume(): void } {
  let offset = 0;
  let pausedAt: number | null = null;
  return {
    now: () => (pausedAt ?? Date.now()) - offset,
    pause() {
      pausedAt ??= Date.now();
    },
    resume() {
      if (pausedAt !== null) offset += Date.now() - pausedAt;
      pausedAt = null;
    },
  };
}

/** Runs `op` for hosts 0..n-1 round-robin with `concurrency` workers for `seconds`; returns how many completed. */
export async function closedLoop(
  n: number,
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = next++ % n;
        await op(i);
        done++;
      }
    }),
  );
  return done;
}

/** Runs `op` once for every host 0..n-1 with `concurrency` workers. */
export async function eachOnce(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await op(next++);
    }),
  );
}

const canonicalRows = (rows: ReadonlyArray<Record<string, unknown>>): string =>
  rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, String(r[k] ?? '')]),
      ),
    )
    .sort()
    .join('\n');

/** The server's query key for a logged name: `pack/<pack>/<query>` → `<pack>/<query>`. */
export const queryKeyOfLogName = (name: string): string => (name.startsWith('pack/') ? name.slice(5) : name);

/**
 * Compares every result set the server acknowledged to an agent with what latest_results holds.
 * A stored set that differs counts as lost unless it is newer than the acknowledged one.
 */
export function countLost(dbPath: string, fleet: Fleet, hosts: number): { checked: number; lost: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const ids = new Map<string, number>();
    for (const r of db.prepare('SELECT id, serial FROM hosts').all() as Array<{ id: number; serial: string }>)
      ids.set(r.serial, r.id);
    const stmt = db.prepare('SELECT rows, observed_at FROM latest_results WHERE host_id = ? AND query_key = ?');
    let checked = 0;
    let lost = 0;
    for (let i = 0; i < hosts; i++) {
      const sets = fleet.ackedSets(i);
      if (sets.length === 0) continue;
      const id = ids.get(fleet.agent(i).serial);
      for (const s of sets) {
        if (!s.exact) continue;
        checked++;
        if (id === undefined) {
          lost++;
          continue;
        }
        const row = stmt.get(id, queryKeyOfLogName(s.logName)) as { rows: string; observed_at: number } | undefined;
        if (!row) {
          lost++;
          continue;
        }
        const parsed: unknown = JSON.parse(row.rows);
        const stored = Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [];
        if (canonicalRows(stored) !== canonicalRows(s.rows) && row.observed_at <= s.unixTime * 1000) lost++;
      }
    }
    return { checked, lost };
  } finally {
    db.close();
  }
}

async function tlsRate(
  host: string,
  port: number,
  caPem: string,
  seconds: number,
  resume: boolean,
): Promise<{ perSec: number; resumedShare: number }> {
  let session: Buffer | undefined;
  if (resume) {
    session = await new Promise<Buffer | undefined>((resolve) => {
      const s = tls.connect({ host, port, ca: caPem, servername: 'localhost' });
      let got: Buffer | undefined;
      s.on('session', (b: Buffer) => {
        got = b;
        s.end();
      });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(undefined));
      setTimeout(() => s.destroy(), 2000).unref();
    });
  }
  let resumed = 0;
  const n = await closedLoop(
    1,
    16,
    seconds,
    () =>
      new Promise<void>((resolve) => {
        const s = tls.connect(
          { host, port, ca: caPem, servername: 'localhost', ...(session ? { session } : {}) },
          () => {
            if (s.isSessionReused()) resumed++;
            s.destroy();
            resolve();
          },
        );
        s.on('error', () => resolve());
      }),
  );
  return { perSec: n / seconds, resumedShare: n ? resumed / n : 0 };
}

/** A bare Node HTTPS server answering a constant, in its own process, with the same certificate. */
async function startBareServer(certsDir: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const script = `
    const https = require('node:https'); const fs = require('node:fs');
    const body = JSON.stringify({ decision: 'allow' });
    https.createServer({ key: fs.readFileSync(${JSON.stringify(path.join(certsDir, 'server.key'))}), cert: fs.readFileSync(${JSON.stringify(path.join(certsDir, 'server.crt'))}) },
      (req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); })
      .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`bare server exited ${c}`)));
  });
  return { url: `https://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

interface Reply {
  status: number;
  json: unknown;
  text: string;
}

function request(url: string, caPem: string, method: string, token: string | null, body?: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    if (payload)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
    const req = https.request(url, { method, ca: caPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', () => resolve({ status: 0, json: null, text: '' }));
    req.end(payload);
  });
}

const decisionOf = (j: unknown): string =>
  typeof j === 'object' && j !== null && 'decision' in j ? String((j as { decision: unknown }).decision) : '';

/**
 * Collects the bench process's own garbage before a latency phase (with `--expose-gc`, as `npm run
 * bench` runs): the loss check just parsed every stored result, and the collector of a 100k-host
 * fleet's heap runs on the same cores as the server, showing up as server latency otherwise.
 */
async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 1000));
}

export async function runAtSize(opts: RunOptions): Promise<BenchFigures> {
  const d = opts.durations;
  const n = opts.hosts;
  const log = opts.log ?? (() => undefined);
  const server: ServerProcess = await startServerProcess({ env: opts.serverEnv ?? {} });
  const clock = pausableClock();
  const transport: Transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 64 });
  const fleet = createFleet({
    hosts: n,
    transport,
    enrollSecret: server.enrollSecret,
    clock,
    seed: opts.seed ?? 1,
    trackAcks: true,
    driftPerHour: 0,
    timeScale: 1,
  });
  /** Connections of the hosts measured in the fix → access phase (their own, see there). */
  const ownTransports: Transport[] = [];
  const waitQuiet = async (): Promise<void> => {
    while (transport.inFlight() > 0) await new Promise((r) => setTimeout(r, 20));
  };
  const eps = () => fleet.stats().endpoints;
  try {
    // ── enrollment: every host starts at once (enroll, then its first config), nothing else running ──
    log(`[${n}] enrolling`);
    clock.pause();
    const t0 = Date.now();
    const cpuEnroll0 = cpuMs(server.pid);
    const starting = fleet.startNow({ spread: true });
    const deadline = t0 + d.enrollTimeout * 1000;
    while (fleet.stats().enrolled < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
    await waitQuiet();

    // ── distributed/read check-ins (closed loop, keep-alive) ──
    log(`[${n}] check-ins`);
    eps().read.latency.reset();
    let cpu0 = cpuMs(server.pid);
    const reads = await closedLoop(n, 64, d.phase, (i) => fleet.pollNow(i));
    const readCpu = cpuMs(server.pid) - cpu0;
    const readP50 = eps().read.latency.percentile(50);
    const readP99 = eps().read.latency.percentile(99);

    // ── log batches (1): the fleet's first posture report, every host's whole schedule in one batch ──
    log(`[${n}] first posture report of every host`);
    eps().log.latency.reset();
    let okBefore = eps().log.ok;
    cpu0 = cpuMs(server.pid);
    let tLog = performance.now();
    let rowsBefore = fleet.stats().resultRowsAcked;
    await eachOnce(n, 64, (i) => fleet.reportNow(i));
    const firstReportSeconds = (performance.now() - tLog) / 1000;
    const firstCpu = cpuMs(server.pid) - cpu0;
    const firstBatches = eps().log.ok - okBefore;
    const firstRows = fleet.stats().resultRowsAcked - rowsBefore;
    const firstReportP50 = eps().log.latency.percentile(50);
    const firstReportP99 = eps().log.latency.percentile(99);
    let queriesPerHost = 0;
    for (let i = 0; i < Math.min(n, 300); i++) queriesPerHost += fleet.ackedSets(i).length;
    queriesPerHost /= Math.min(n, 300);
    await waitQuiet();

    // ── log batches (2): steady state at osquery defaults, one query's snapshot per batch ──
    log(`[${n}] log batches (steady state)`);
    eps().log.latency.reset();
    okBefore = eps().log.ok;
    rowsBefore = fleet.stats().resultRowsAcked;
    const linesBefore = fleet.stats().resultLinesAcked;
    cpu0 = cpuMs(server.pid);
    tLog = performance.now();
    // at most one operation per host at a time, so a batch holds just the query that ran
    await closedLoop(n, Math.min(64, n), d.phase, (i) => fleet.reportOneNow(i));
    const logSeconds = (performance.now() - tLog) / 1000;
    const logCpu = cpuMs(server.pid) - cpu0;
    const batches = eps().log.ok - okBefore;
    const rows = fleet.stats().resultRowsAcked - rowsBefore;
    const lines = fleet.stats().resultLinesAcked - linesBefore;
    const logP50 = eps().log.latency.percentile(50);
    const logP99 = eps().log.latency.percentile(99);

    // ── results lost ──
    await fleet.flushAll();
    await waitQuiet();
    const lost = countLost(server.dbPath, fleet, n);

    // ── TLS handshakes ──
    log(`[${n}] TLS handshakes`);
    await settle();
    const full = await tlsRate('127.0.0.1', server.port, server.caPem, d.tls, false);
    const resumed = await tlsRate('127.0.0.1', server.port, server.caPem, d.tls, true);

    // ── verdict / authz vs bare Node ──
    log(`[${n}] verdict and authz load`);
    const serials = Array.from({ length: Math.min(n, 1000) }, (_, i) => fleet.agent(i).serial);
    const auth = { authorization: `Bearer ${server.gatewayToken}` };
    const verdictPaths = serials.map(
      (sn) => `/api/v1/verdict?serial=${encodeURIComponent(sn)}&resource=prod-db&user=alice`,
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
        'x-forwarded-user': 'alice',
        'x-trustgate-resource': 'prod-db',
      })),
    });
    await settle();
    const verdictFixed = await runLoad({ ...load, kind: 'paced', rate: VERDICT_FIXED_RATE, paths: verdictPaths });
    const bareServer = await startBareServer(server.certsDir);
    const bareLoad = { url: bareServer.url, caPem: server.caPem, seconds: d.http, headers: {}, paths: ['/'] };
    await settle();
    const bare = await runLoad({ ...bareLoad, kind: 'cannon' });
    await settle();
    const bareFixed = await runLoad({ ...bareLoad, kind: 'paced', rate: VERDICT_FIXED_RATE });
    bareServer.stop();

    // ── in-process evaluations ──
    const evals = benchEvaluations({ hosts: Math.min(n, 10_000) });

    // ── fix → access while the fleet runs ──
    log(`[${n}] fix → access`);
    clock.resume();
    // the fleet now runs at its own pace (osquery defaults): the server's CPU meanwhile, measured directly
    const paceCpu0 = cpuMs(server.pid);
    const paceT0 = performance.now();
    const paceReads0 = eps().read.ok;
    const paceLogs0 = eps().log.ok;
    const failing = Array.from({ length: n }, (_, i) => i)
      .filter((i) => fleet.agent(i).facets.length > 0)
      .slice(0, 2 * d.fixes);
    // The measured hosts talk over their own connections, as every real agent does: behind the
    // simulator's shared pool of 64 they would wait for the rest of the simulated fleet, not the server.
    for (const i of failing) {
      const t = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 2 });
      fleet.ownConnection(i, t);
      ownTransports.push(t);
    }
    const viaPage: number[] = [];
    const viaAdmin: number[] = [];
    const verdictUrl = (serial: string) =>
      `${server.url}/api/v1/verdict?serial=${encodeURIComponent(serial)}&resource=prod-db`;
    /** Polls the verdict until allow (at most 3 minutes); records seconds since `start`. */
    const awaitAllow = async (serial: string, start: number, into: number[]): Promise<void> => {
      const end = start + 180_000;
      while (Date.now() < end) {
        if (
          decisionOf((await request(verdictUrl(serial), server.caPem, 'GET', server.gatewayToken)).json) === 'allow'
        ) {
          into.push((Date.now() - start) / 1000);
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await Promise.all(
      failing.map(async (i, j) => {
        // Denials happen at random moments relative to each host's polling phase.
        await new Promise((r) => setTimeout(r, (((j * 7919) % 1000) / 1000) * d.fixSpread * 1000));
        const serial = fleet.agent(i).serial;
        const denied = (await request(verdictUrl(serial), server.caPem, 'GET', server.gatewayToken)).json as {
          decision?: string;
          remediation_page?: string | null;
        } | null;
        if (denied?.decision !== 'deny') return;
        if (j % 2 === 1) {
          // An admin asks for the recheck; nobody has the page open, so the agent polls at its own pace.
          fleet.fix(i);
          const start = Date.now();
          await request(
            `${server.url}/api/v1/hosts/${encodeURIComponent(serial)}/recheck`,
            server.caPem,
            'POST',
            server.adminToken,
            {},
          );
          return awaitAllow(serial, start, viaAdmin);
        }
        // The person follows the link on the deny, reads the page, fixes the device, presses Recheck.
        const link = denied.remediation_page;
        if (!link) return;
        const page = await request(link, server.caPem, 'GET', null);
        const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
        const t = new URL(link).searchParams.get('t');
        if (!csrf || !t) return;
        const fixing = d.fixMinutesMin + (((j * 104_729) % 1000) / 1000) * (d.fixMinutesMax - d.fixMinutesMin);
        await new Promise((r) => setTimeout(r, fixing * 60_000));
        fleet.fix(i);
        const start = Date.now();
        await request(`${server.url}/device/recheck`, server.caPem, 'POST', null, { t, csrf });
        return awaitAllow(serial, start, viaPage);
      }),
    );
    viaPage.sort((a, b) => a - b);
    viaAdmin.sort((a, b) => a - b);
    const paceSeconds = (performance.now() - paceT0) / 1000;
    const paceCores = (cpuMs(server.pid) - paceCpu0) / 1000 / paceSeconds;
    const paceReadsPerSec = (eps().read.ok - paceReads0) / paceSeconds;
    const paceLogsPerSec = (eps().log.ok - paceLogs0) / paceSeconds;
    clock.pause();
    await waitQuiet();

    const peakRssMiB = rssBytes(server.pid, 'VmHWM') / 2 ** 20;

    // ── cold start with N hosts stored ──
    log(`[${n}] cold start`);
    // The replay below runs against a small ingest queue so that a burst can overflow it.
    const coldStartMs = await server.restart({ TRUSTGATE_INGEST_QUEUE_MAX: String(OUTAGE_QUEUE_MAX) });

    // ── outage replay: a backlog arrives at once; beyond its queue the server must answer error ──
    log(`[${n}] outage replay`);
    const replayHosts = Math.min(n, d.outageHosts);
    for (let i = 0; i < replayHosts; i++) for (let r = 0; r < d.outageRuns; r++) fleet.runAllNow(i);
    const logOk0 = eps().log.ok;
    const logFail0 = eps().log.failed;
    transport.setConcurrency?.(1024);
    const tOut = Date.now();
    for (let round = 0; round < 30 && fleet.stats().bufferedLines > 0; round++) {
      await fleet.flushAll();
      await waitQuiet();
    }
    const outageDrainSeconds = (Date.now() - tOut) / 1000;
    transport.setConcurrency?.(64);
    const outageLost = countLost(server.dbPath, fleet, n);

    const cores = opts.cores;
    const readMs = reads ? readCpu / reads : Number.NaN;
    const batchMs = batches ? logCpu / batches : Number.NaN;
    // Per host, at osquery defaults: one check-in per 60 s, and each posture query's snapshot in its own
    // batch every 300 s (splay gives each query of a pack its own moment, logger_tls_period is 10 s).
    const perHostMsPerSec = readMs / 60 + (batchMs * queriesPerHost) / 300;
    const hostsPerCore = 1000 / perHostMsPerSec;
    return {
      hosts: n,
      enrollPerSec,
      enrollSeconds,
      enrolled,
      cpuMsPerStart: cpuPerStart,
      rssMiB,
      peakRssMiB,
      readsPerSec: reads / d.phase,
      readP50,
      readP99,
      cpuMsPer1kReads: readMs * 1000,
      firstReportSeconds,
      firstReportBatchesPerSec: firstBatches / firstReportSeconds,
      firstReportRowsPerSec: firstRows / firstReportSeconds,
      firstReportP50,
      firstReportP99,
      cpuMsPer1kFirstReports: firstBatches ? (firstCpu / firstBatches) * 1000 : Number.NaN,
      batchesPerSec: batches / logSeconds,
      rowsPerSec: rows / logSeconds,
      linesPerBatch: batches ? lines / batches : 0,
      logP50,
      logP99,
      cpuMsPer1kBatches: batchMs * 1000,
      queriesPerHost,
      hostsPerCore,
      impliedCoresFor100k: 100_000 / hostsPerCore,
      cores,
      paceCores,
      paceSeconds,
      paceReadsPerSec,
      paceLogsPerSec,
      resultSetsChecked: lost.checked,
      resultsLost: lost.lost,
      tlsFullPerSec: full.perSec,
      tlsResumedPerSec: resumed.perSec,
      tlsResumedShare: resumed.resumedShare,
      verdictRps: verdict.rps,
      verdictP50: verdict.p50,
      verdictP99: verdict.p99,
      verdictFixedRate: verdictFixed.rps,
      verdictFixedP50: verdictFixed.p50,
      verdictFixedP99: verdictFixed.p99,
      bareFixedP50: bareFixed.p50,
      bareFixedP99: bareFixed.p99,
      authzRps: authz.rps,
      authzP50: authz.p50,
      authzP99: authz.p99,
      bareRps: bare.rps,
      bareP50: bare.p50,
      bareP99: bare.p99,
      evaluationsPerSec: evals.evaluationsPerSecond,
      evaluationsNote: `server/posture benchEvaluations, ${evals.hosts} hosts × ${evals.checks} checks`,
      coldStartMs,
      fixAccessP50: percentile(viaPage, 50),
      fixAccessP95: percentile(viaPage, 95),
      fixAccessMeasured: viaPage.length,
      adminFixAccessP50: percentile(viaAdmin, 50),
      adminFixAccessP95: percentile(viaAdmin, 95),
      adminFixAccessMeasured: viaAdmin.length,
      outageBatches: eps().log.ok - logOk0 + (eps().log.failed - logFail0),
      outageErrors: eps().log.failed - logFail0,
      outageLost: outageLost.lost,
      outageDrainSeconds,
    };
  } finally {
    await fleet.stop();
    transport.close();
    for (const t of ownTransports) t.close();
    fleet.engine.close();
    await server.stop();
  }
}
