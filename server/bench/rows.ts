/**
 * The bench table's rows: every figure the bench prints, in order, with its label, unit, target and
 * note, read from the figures of each fleet size. Grouped as the table reads: start-up and memory,
 * check-ins and log ingest, capacity, results lost, TLS and the gateway, evaluations and recovery.
 */
import { OUTAGE_QUEUE_MAX, VERDICT_FIXED_RATE, type BenchFigures } from './figures.js';
import { firstVerdictRows } from './first-verdict.js';
import { atLeast, below, exactly, fmt, type BenchRow } from './table.js';

/** One row: a value per fleet size picked from its figures. */
type RowOf = (
  name: string,
  unit: string,
  pick: (f: BenchFigures) => number | string | null,
  extra?: Partial<BenchRow>,
) => BenchRow;

const ratio = (a: number, b: number): number => (b > 0 ? (100 * a) / b : Number.NaN);
const pair = (a: number, b: number): string => `${a.toFixed(1)} / ${b.toFixed(1)}`;

function startupRows(row: RowOf): BenchRow[] {
  return [
    row('enroll rate', 'hosts/s', (f) => f.enrollPerSec),
    row(
      'time to full enrollment',
      's',
      (f) => (f.enrolled < f.hosts ? `> ${Math.round(f.enrollSeconds)} (${f.enrolled} enrolled)` : f.enrollSeconds),
      {
        note: 'all hosts start at once (64 connections): enroll with host_details, then the first config fetch',
      },
    ),
    row('server CPU per host start-up', 'CPU-ms', (f) => f.cpuMsPerStart),
    row('server RSS after full enrollment', 'MiB', (f) => f.rssMiB, { target: below(1024, '< 1024 MiB') }),
    row('server peak RSS, whole run before the restart', 'MiB', (f) => f.peakRssMiB, {
      note:
        'VmHWM: under full load V8 lets garbage build up between major collections, ' +
        'so the peak is well above the live heap',
    }),
    row('cold start to ready, N hosts stored', 's', (f) => f.coldStartMs / 1000, { target: below(10, '< 10 s') }),
  ];
}

function ingestRows(row: RowOf): BenchRow[] {
  return [
    row('distributed/read check-ins', 'req/s', (f) => f.readsPerSec),
    row('check-in latency p50 / p99', 'ms', (f) => pair(f.readP50, f.readP99)),
    row('server CPU per 1,000 check-ins', 'CPU-ms', (f) => f.cpuMsPer1kReads),
    row('first posture report of every host', 's', (f) => f.firstReportSeconds, {
      note:
        'every host sends its whole schedule (snapshot lines of every query) once, 64 connections: ' +
        'the fleet right after enrollment',
    }),
    row(
      'first report: batches/s, result rows/s',
      '/s',
      (f) => `${fmt(f.firstReportBatchesPerSec)}, ${fmt(f.firstReportRowsPerSec)}`,
    ),
    row('first report: batch latency p50 / p99', 'ms', (f) => pair(f.firstReportP50, f.firstReportP99)),
    row('server CPU per 1,000 first-report batches', 'CPU-ms', (f) => f.cpuMsPer1kFirstReports),
    row('log ingest, steady state', 'batches/s', (f) => f.batchesPerSec, {
      note:
        "each batch is one query's snapshot (as splay sends them at osquery defaults), " +
        'results mostly unchanged since the first report',
    }),
    row('log ingest, steady state', 'result rows/s', (f) => f.rowsPerSec),
    row('log batch latency p50 / p99', 'ms', (f) => pair(f.logP50, f.logP99)),
    row('server CPU per 1,000 log batches', 'CPU-ms', (f) => f.cpuMsPer1kBatches),
  ];
}

function capacityRows(row: RowOf, cores: number): BenchRow[] {
  return [
    row('implied hosts per core at osquery defaults', 'hosts', (f) => f.hostsPerCore, {
      note:
        'check-in every 60 s + each posture query snapshot in its own batch every 300 s ' +
        '(logger_tls_period 10 s); CPU of the server process only',
    }),
    row('cores needed for 100k hosts', 'cores', (f) => f.impliedCoresFor100k, {
      target: below(cores / 2, `< ${cores / 2} (half of ${cores})`),
    }),
    row('server cores used, whole fleet at its own pace', 'cores', (f) => f.paceCores, {
      note:
        'measured directly while every host runs on osquery defaults (the fix → access phase, several ' +
        "minutes); the fleet's achieved rates are on the next row",
    }),
    row(
      '  achieved: check-ins/s, log batches/s',
      '/s',
      (f) =>
        `${fmt(f.paceReadsPerSec)}, ${fmt(f.paceLogsPerSec)} ` +
        `(expected ≈ ${fmt(f.hosts / 60)}, ${fmt((f.hosts * f.queriesPerHost) / 300)})`,
    ),
  ];
}

function lossRows(row: RowOf): BenchRow[] {
  return [
    row('results lost (acked vs latest_results)', 'sets', (f) => f.resultsLost, { target: exactly(0, '0') }),
    row('result sets compared', 'sets', (f) => f.resultSetsChecked),
  ];
}

function gatewayRows(row: RowOf): BenchRow[] {
  return [
    row('TLS handshakes, full', '/s', (f) => f.tlsFullPerSec),
    row('TLS handshakes, resumed', '/s', (f) => f.tlsResumedPerSec, {
      note: 'share actually resumed is in the JSON output (tlsResumedShare)',
    }),
    row('GET /api/v1/verdict', 'req/s', (f) => f.verdictRps),
    row('verdict latency p50', 'ms', (f) => f.verdictP50),
    row('verdict latency p99 at saturation', 'ms', (f) => f.verdictP99, {
      note: "closed loop, 32 connections: latency is queueing (Little's law: 32 ÷ req/s)",
    }),
    row(`verdict at a steady ${VERDICT_FIXED_RATE} req/s`, 'req/s', (f) => f.verdictFixedRate, {
      note:
        'open loop, requests started evenly every millisecond over keep-alive connections ' +
        "(server/bench/load.ts; autocannon's rate option sends each second's quota as one burst)",
    }),
    row('verdict latency p50 at the steady rate', 'ms', (f) => f.verdictFixedP50),
    row('verdict latency p99 at the steady rate', 'ms', (f) => f.verdictFixedP99, { target: below(5, '< 5 ms') }),
    row(
      'bare Node latency p50 / p99 at the steady rate',
      'ms',
      (f) => `${fmt(f.bareFixedP50)} / ${fmt(f.bareFixedP99)}`,
    ),
    row('GET /api/v1/authz', 'req/s', (f) => f.authzRps),
    row('authz latency p50 / p99', 'ms', (f) => `${f.authzP50} / ${f.authzP99}`),
    row('bare Node https constant', 'req/s', (f) => f.bareRps, {
      note:
        'same machine, same autocannon settings (32 connections, keep-alive), same certificate; ' +
        'every load runs in its own process, apart from the simulated fleet',
    }),
    row('bare Node latency p50 / p99', 'ms', (f) => `${f.bareP50} / ${f.bareP99}`),
    row('verdict ÷ bare Node (headline)', '%', (f) => ratio(f.verdictRps, f.bareRps), {
      target: atLeast(50, '≥ 50 %'),
    }),
    row('authz ÷ bare Node', '%', (f) => ratio(f.authzRps, f.bareRps)),
  ];
}

function recoveryRows(row: RowOf, results: readonly BenchFigures[]): BenchRow[] {
  return [
    row('in-process posture evaluations', '/s', (f) => f.evaluationsPerSec, {
      note: results[0]?.evaluationsNote ?? '',
    }),
    row('fix → access with recheck p50', 's', (f) => f.fixAccessP50),
    row('fix → access with recheck p95', 's', (f) => f.fixAccessP95, {
      target: below(30, '< 30 s'),
      note:
        "fleet at real pace; the person follows the deny's link to the remediation page (the device then " +
        'polls every 5 s), fixes it 1–2 min later, presses Recheck',
    }),
    row(
      'fix → access, recheck by an admin (no page)',
      's',
      (f) => `${fmt(f.adminFixAccessP50)} / ${fmt(f.adminFixAccessP95)}`,
      {
        note:
          'p50 / p95: POST /api/v1/hosts/:serial/recheck right after the fix; the device is not polling ' +
          'fast, so this waits for its next distributed poll (60 s)',
      },
    ),
    row('outage replay: batches answered error', 'batches', (f) => `${f.outageErrors} of ${f.outageBatches}`, {
      note:
        'backlog of every query × runs per host sent at 1024 concurrent requests against an ingest queue ' +
        `of ${OUTAGE_QUEUE_MAX}`,
    }),
    row('outage replay: results lost', 'sets', (f) => f.outageLost, { target: exactly(0, '0') }),
    row('outage replay: time to drain', 's', (f) => f.outageDrainSeconds),
  ];
}

/** Device identity: the start-up and check-in rows again with client certificates, and an inventory import. */
function deviceRows(row: RowOf): BenchRow[] {
  return [
    row('with client certificates: hosts measured', 'hosts', (f) => f.certHosts, {
      note:
        'certificate mode, a server of its own; each host presents its own device certificate on its own ' +
        'connection (at most 10,000 such clients in the bench process)',
    }),
    row('  enroll rate (certificate proven)', 'hosts/s', (f) => f.certEnrollPerSec),
    row('  server CPU per host start-up', 'CPU-ms', (f) => f.certCpuMsPerStart, {
      note:
        'beside "server CPU per host start-up" above, which shares 64 pooled connections: here every host ' +
        'makes its own full TLS handshake with a client certificate (verified against the device CA)',
    }),
    row('  check-in latency p50 / p99', 'ms', (f) => pair(f.certReadP50, f.certReadP99)),
    row('  server CPU per 1,000 check-ins', 'CPU-ms', (f) => f.certCpuMsPer1kReads, {
      note: 'beside "server CPU per 1,000 check-ins" above: one fingerprint comparison per request',
    }),
    row('  TLS handshakes with a client certificate, full / resumed', '/s', (f) =>
      pair(f.certTlsFullPerSec, f.certTlsResumedPerSec),
    ),
    row('  authz p50 / p99, certificate mapped by Trustgate', 'ms', (f) => pair(f.certAuthzP50, f.certAuthzP99), {
      note:
        `open loop at ${VERDICT_FIXED_RATE} req/s; X-Client-Cert-Fingerprint (SHA-1, as nginx sends it) of each ` +
        "host's certificate → the device by the in-memory certificate index (devices/cert-index.ts)",
    }),
    row('  authz p99, certificate mapped, at the steady rate', 'ms', (f) => f.certAuthzP99, {
      target: below(5, '< 5 ms'),
    }),
    row('  certificates not mapped (of 50 sampled)', 'requests', (f) => f.certAuthzUnmapped, {
      target: exactly(0, '0'),
    }),
    row('inventory import, 100,000 rows', 's', (f) => f.inventoryImportSeconds, {
      target: below(10, '< 10 s'),
      note: 'CSV parse and validation of every row, then one transaction (trustgate devices import)',
    }),
  ];
}

/** The table rows from the figures of each size. */
export function buildRows(results: readonly BenchFigures[], cores: number): BenchRow[] {
  const row: RowOf = (name, unit, pick, extra = {}) => ({
    name,
    unit,
    values: new Map(results.map((f) => [f.hosts, pick(f)])),
    ...extra,
  });
  return [
    ...startupRows(row),
    ...ingestRows(row),
    ...firstVerdictRows(row),
    ...capacityRows(row, cores),
    ...lossRows(row),
    ...gatewayRows(row),
    ...recoveryRows(row, results),
    ...deviceRows(row),
  ];
}
