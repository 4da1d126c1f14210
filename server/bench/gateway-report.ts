/**
 * The rows of `npm run bench -- --gateway` (gateway-suite.ts): one table per fleet size, with the
 * machine's load average beside the figures (the bench machine is shared), every wrk run and their
 * median. CLI output code.
 */
import os from 'node:os';
import type { GatewayFigures, UnderIngest, WrkRun } from './gateway-suite.js';

export const loadAverage = (): number => os.loadavg()[0] ?? Number.NaN;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const f = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export interface WrkRatios {
  rps: number;
  p99: number;
  cpu: number;
}

export const ratiosOf = (r: WrkRun): WrkRatios => ({
  rps: r.verdict.rps / r.bare.rps,
  p99: r.verdict.p99 / r.bare.p99,
  cpu: r.verdictCpuMs / r.bareCpuMs,
});

function wrkRows(runs: readonly WrkRun[] | null): Array<[string, string, string]> {
  if (!runs) return [['verdict ÷ bare Node with wrk', 'skipped: /usr/bin/wrk not installed', '≥ 0.5 every run']];
  const rows: Array<[string, string, string]> = [];
  runs.forEach((r, i) => {
    const q = ratiosOf(r);
    rows.push([
      `wrk run ${i + 1}: verdict / bare req/s; p99 ms (load ${f(r.load, 2)})`,
      `${Math.round(r.verdict.rps)} / ${Math.round(r.bare.rps)}; ${f(r.verdict.p99, 2)} / ${f(r.bare.p99, 2)}`,
      '',
    ]);
    rows.push([
      `  run ${i + 1}: req/s ratio (each half), p99 ratio, CPU/request ratio`,
      `${f(q.rps, 3)} (${r.halves.map((h) => f(h, 3)).join(', ')}), ${f(q.p99, 2)}×, ${f(q.cpu, 2)}×`,
      '',
    ]);
  });
  const qs = runs.map(ratiosOf);
  rows.push([
    'verdict ÷ bare Node req/s with wrk, median (min)',
    `${f(median(qs.map((q) => q.rps)), 3)} (${f(Math.min(...qs.map((q) => q.rps)), 3)})`,
    '≥ 0.5 every run',
  ]);
  rows.push(['verdict p99 ÷ bare Node p99 with wrk, median', `${f(median(qs.map((q) => q.p99)), 2)}×`, '≤ 2×']);
  rows.push([
    'server CPU per verdict ÷ bare Node CPU per request, median',
    `${f(median(qs.map((q) => q.cpu)), 2)}× (${f(median(runs.map((r) => r.verdictCpuMs * 1000)), 1)} vs ${f(
      median(runs.map((r) => r.bareCpuMs * 1000)),
      1,
    )} CPU-µs)`,
    '',
  ]);
  return rows;
}

/** `verdict p99 / bare p99 ms = ratio× (max loop delay, server CPU, the fleet's rate)` of a window under ingest. */
const underIngestFigure = (u: UnderIngest): string =>
  `${f(u.verdict.p99, 2)} / ${f(u.bare.p99, 2)} ms = ${f(u.verdict.p99 / u.bare.p99, 2)}× (max loop delay ` +
  `${f(u.verdict.maxDelayMs)} ms, server CPU ${Math.round(u.verdict.cpuShare * 100)} % of a core, fleet ` +
  `${Math.round(u.fleetRate)} req/s)`;

/** Each steady window under ingest, then the median of their p99 ratios (the row with the target). */
function steadyRows(windows: readonly UnderIngest[]): Array<[string, string, string]> {
  const rate = Math.round(median(windows.map((u) => u.verdict.rps)));
  const rows = windows.map((u, i): [string, string, string] => [
    `steady ${rate} req/s under ingest, window ${i + 1} (load ${f(u.load, 2)}): verdict p99 / bare p99`,
    underIngestFigure(u),
    '',
  ]);
  rows.push([
    `steady ${rate} req/s under ingest, the fleet at its own pace: verdict p99 ÷ bare p99, median of ${windows.length}`,
    `${f(median(windows.map((u) => u.verdict.p99 / u.bare.p99)), 2)}×`,
    '≤ 2×',
  ]);
  return rows;
}

export function gatewayRows(g: GatewayFigures): Array<[string, string, string]> {
  return [
    [
      `authz p99 / max loop delay, no page streams (load ${f(g.authzIdle.load, 2)})`,
      `${f(g.authzIdle.p99, 2)} ms / ${f(g.authzIdle.maxDelayMs)} ms (${Math.round(g.authzIdle.rps)} req/s)`,
      '',
    ],
    [
      `authz p99 / max loop delay, ${g.authzStreams.streams} page streams on ${g.authzStreams.devices} devices ` +
        `(load ${f(g.authzStreams.load, 2)})`,
      `${f(g.authzStreams.p99, 2)} ms / ${f(g.authzStreams.maxDelayMs)} ms (${Math.round(g.authzStreams.rps)} req/s)`,
      '',
    ],
    [
      'gateway p99 / max loop delay during a policy reload (SIGHUP), 1000 verdict req/s',
      `${f(g.policyReload.gateway.p99, 2)} ms / ${f(g.policyReload.maxDelayMs)} ms`,
      '',
    ],
    [
      'gateway p99 / max loop delay during a bundle rebuild, 1000 verdict req/s',
      `${f(g.bundleRebuild.gateway.p99, 2)} ms / ${f(g.bundleRebuild.maxDelayMs)} ms (GET ${f(
        g.bundleRebuild.ms,
        0,
      )} ms)`,
      '',
    ],
    [
      'the verdicts wrk asks for, a sample: allow / naming stale checks',
      `${g.wrkAnswers.allow} / ${g.wrkAnswers.stale} of ${g.wrkAnswers.sampled}`,
      '',
    ],
    ...wrkRows(g.wrk),
    [
      `${Math.round(g.wave.verdict.rps)} req/s in the fleet's first distributed wave: verdict p99 / bare p99 ` +
        `(load ${f(g.wave.load, 2)})`,
      underIngestFigure(g.wave),
      '',
    ],
    [
      "the fleet's first distributed wave: hosts that answered their enrollment-time checks",
      `${g.wave.answered} of ${g.hosts} in ${f(g.wave.seconds, 0)} s` +
        (g.wave.answered < g.hosts ? ' (cut at the cap)' : ''),
      '',
    ],
    ...steadyRows(g.steady),
  ];
}

export function renderGatewayTable(g: GatewayFigures): string {
  const rows = gatewayRows(g);
  const w0 = Math.max(...rows.map((r) => r[0].length), 10);
  const w1 = Math.max(...rows.map((r) => r[1].length), 10);
  const head = `gateway under load, ${g.hosts} hosts`;
  return [
    `${head.padEnd(w0)}  ${'figure'.padStart(w1)}  target`,
    `${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ------`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`),
  ].join('\n');
}
