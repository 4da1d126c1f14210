/**
 * One bench run at one fleet size: a real `trustgate serve` process loaded by a simulated fleet in this
 * process. Server CPU and RSS come from /proc/<pid>; results lost are counted by comparing what agents
 * were acknowledged for with the server's SQLite file (latest_results, opened read-only).
 *
 * This module sets the run up, runs the phases in order (phases.ts, fix-access.ts), derives the
 * figures from what they measured and tears everything down.
 */
import { benchEvaluations } from '../posture/bench.js';
import { createFleet } from '../sim/fleet.js';
import { createHttpTransport } from '../sim/transport.js';
import type { BenchFigures, Durations } from './figures.js';
import { fixAccess } from './fix-access.js';
import { answerEnrollmentChecks, firstVerdict } from './first-verdict.js';
import { percentile } from './load.js';
import { pausableClock } from './loops.js';
import {
  checkIns,
  coldStartAndOutage,
  enrollment,
  firstReport,
  gatewayLoad,
  resultsLost,
  steadyLogs,
  tlsHandshakes,
  type Bench,
} from './phases.js';
import { rssBytes } from './proc.js';
import { clientCertificates, inventoryImport } from './device-identity.js';
import { startServerProcess } from './server-process.js';

export interface RunOptions {
  hosts: number;
  durations: Durations;
  seed?: number;
  cores: number;
  log?: (msg: string) => void;
  /** Extra TRUSTGATE_* settings for the server (the bench itself uses the defaults). */
  serverEnv?: Record<string, string>;
}

/** What the phases measured, as they return it. */
interface Measured {
  enroll: Awaited<ReturnType<typeof enrollment>>;
  answers: Awaited<ReturnType<typeof answerEnrollmentChecks>>;
  reads: Awaited<ReturnType<typeof checkIns>>;
  first: Awaited<ReturnType<typeof firstReport>>;
  steady: Awaited<ReturnType<typeof steadyLogs>>;
  lost: Awaited<ReturnType<typeof resultsLost>>;
  tls: Awaited<ReturnType<typeof tlsHandshakes>>;
  gateway: Awaited<ReturnType<typeof gatewayLoad>>;
  evals: ReturnType<typeof benchEvaluations>;
  pace: Awaited<ReturnType<typeof fixAccess>>;
  peakRssMiB: number;
  outage: Awaited<ReturnType<typeof coldStartAndOutage>>;
  certs: Awaited<ReturnType<typeof clientCertificates>>;
  inventoryImportSeconds: number;
  burst: Awaited<ReturnType<typeof firstVerdict>>;
}

/** Start-up, memory, check-ins, log ingest and the capacity they imply. */
function loadFigures(n: number, d: Durations, cores: number, m: Measured) {
  const { enroll, reads, first, steady } = m;
  const readMs = reads.reads ? reads.readCpu / reads.reads : Number.NaN;
  const batchMs = steady.batches ? steady.logCpu / steady.batches : Number.NaN;
  // Per host, at osquery defaults: one check-in per 60 s, and each posture query's snapshot in its own
  // batch every 300 s (splay gives each query of a pack its own moment, logger_tls_period is 10 s).
  const perHostMsPerSec = readMs / 60 + (batchMs * first.queriesPerHost) / 300;
  const hostsPerCore = 1000 / perHostMsPerSec;
  return {
    hosts: n,
    enrollPerSec: enroll.enrollPerSec,
    enrollSeconds: enroll.enrollSeconds,
    enrolled: enroll.enrolled,
    cpuMsPerStart: enroll.cpuPerStart,
    rssMiB: enroll.rssMiB,
    peakRssMiB: m.peakRssMiB,
    readsPerSec: reads.reads / d.phase,
    readP50: reads.readP50,
    readP99: reads.readP99,
    cpuMsPer1kReads: readMs * 1000,
    firstReportSeconds: first.firstReportSeconds,
    firstReportBatchesPerSec: first.firstBatches / first.firstReportSeconds,
    firstReportRowsPerSec: first.firstRows / first.firstReportSeconds,
    firstReportP50: first.firstReportP50,
    firstReportP99: first.firstReportP99,
    cpuMsPer1kFirstReports: first.firstBatches ? (first.firstCpu / first.firstBatches) * 1000 : Number.NaN,
    batchesPerSec: steady.batches / steady.logSeconds,
    rowsPerSec: steady.rows / steady.logSeconds,
    linesPerBatch: steady.batches ? steady.lines / steady.batches : 0,
    logP50: steady.logP50,
    logP99: steady.logP99,
    cpuMsPer1kBatches: batchMs * 1000,
    queriesPerHost: first.queriesPerHost,
    hostsPerCore,
    impliedCoresFor100k: 100_000 / hostsPerCore,
    cores,
  };
}

/** The fleet at its own pace, results lost, TLS, the gateway, evaluations, fix → access, the outage. */
function serviceFigures(m: Measured) {
  const { pace, tls, gateway, evals, outage } = m;
  return {
    paceCores: pace.paceCores,
    paceSeconds: pace.paceSeconds,
    paceReadsPerSec: pace.paceReadsPerSec,
    paceLogsPerSec: pace.paceLogsPerSec,
    resultSetsChecked: m.lost.checked,
    resultsLost: m.lost.lost,
    tlsFullPerSec: tls.full.perSec,
    tlsResumedPerSec: tls.resumed.perSec,
    tlsResumedShare: tls.resumed.resumedShare,
    verdictRps: gateway.verdict.rps,
    verdictP50: gateway.verdict.p50,
    verdictP99: gateway.verdict.p99,
    verdictFixedRate: gateway.verdictFixed.rps,
    verdictFixedP50: gateway.verdictFixed.p50,
    verdictFixedP99: gateway.verdictFixed.p99,
    bareFixedP50: gateway.bareFixed.p50,
    bareFixedP99: gateway.bareFixed.p99,
    authzRps: gateway.authz.rps,
    authzP50: gateway.authz.p50,
    authzP99: gateway.authz.p99,
    bareRps: gateway.bare.rps,
    bareP50: gateway.bare.p50,
    bareP99: gateway.bare.p99,
    evaluationsPerSec: evals.evaluationsPerSecond,
    evaluationsNote: `server/posture benchEvaluations, ${evals.hosts} hosts × ${evals.checks} checks`,
    coldStartMs: outage.coldStartMs,
    fixAccessP50: percentile(pace.viaPage, 50),
    fixAccessP95: percentile(pace.viaPage, 95),
    fixAccessMeasured: pace.viaPage.length,
    adminFixAccessP50: percentile(pace.viaAdmin, 50),
    adminFixAccessP95: percentile(pace.viaAdmin, 95),
    adminFixAccessMeasured: pace.viaAdmin.length,
    outageBatches: outage.outageBatches,
    outageErrors: outage.outageErrors,
    outageLost: outage.outageLost,
    outageDrainSeconds: outage.outageDrainSeconds,
  };
}

/** Every phase in order on one server process and one fleet; then device identity on a server of its own. */
async function measure(b: Bench, seed: number, serverEnv: Record<string, string>): Promise<Measured> {
  const enroll = await enrollment(b);
  const answers = await answerEnrollmentChecks(b);
  const reads = await checkIns(b);
  const first = await firstReport(b);
  const steady = await steadyLogs(b);
  const lost = await resultsLost(b);
  const tls = await tlsHandshakes(b);
  const gateway = await gatewayLoad(b);
  const evals = benchEvaluations({ hosts: Math.min(b.n, 10_000) });
  const pace = await fixAccess(b);
  const peakRssMiB = rssBytes(b.server.pid, 'VmHWM') / 2 ** 20;
  const outage = await coldStartAndOutage(b);
  const burst = await firstVerdict(b);
  b.clock.pause(); // the main fleet stands still while another server is measured
  const certs = await clientCertificates({ n: b.n, d: b.d, seed, log: b.log, serverEnv });
  b.log(`[${b.n}] inventory import`);
  const inventoryImportSeconds = await inventoryImport();
  return {
    enroll,
    answers,
    reads,
    first,
    steady,
    lost,
    tls,
    gateway,
    evals,
    pace,
    peakRssMiB,
    outage,
    burst,
    certs,
    inventoryImportSeconds,
  };
}

export async function runAtSize(opts: RunOptions): Promise<BenchFigures> {
  const d = opts.durations;
  const n = opts.hosts;
  const log = opts.log ?? (() => undefined);
  const server = await startServerProcess({ env: opts.serverEnv ?? {} });
  const clock = pausableClock();
  const transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 64 });
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
  const b: Bench = { n, d, log, server, clock, transport, fleet, ownTransports: [] };
  try {
    const m = await measure(b, opts.seed ?? 1, opts.serverEnv ?? {});
    return {
      ...loadFigures(n, d, opts.cores, m),
      ...serviceFigures(m),
      ...m.answers,
      ...m.burst,
      ...m.certs,
      inventoryImportSeconds: m.inventoryImportSeconds,
    };
  } finally {
    await fleet.stop();
    transport.close();
    for (const t of b.ownTransports) t.close();
    fleet.engine.close();
    await server.stop();
  }
}
