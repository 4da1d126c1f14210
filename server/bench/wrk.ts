/**
 * wrk (the C load generator, Debian's /usr/bin/wrk) for the bench's headline ratio: a client that is not
 * the bottleneck. Optional: without the binary the bench says so and skips the rows that need it.
 * `-t2 -c32`, HTTPS keep-alive, a Lua script that picks each request's path from a list (varied serials)
 * and prints the latency's quantile function at the end, so runs of several slices merge (`mergeWrk`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const WRK_BIN = process.env.TRUSTGATE_BENCH_WRK ?? '/usr/bin/wrk';

export const wrkAvailable = (): boolean => fs.existsSync(WRK_BIN);

export interface WrkResult {
  rps: number;
  requests: number;
  /** The run's length as wrk measured it, s. */
  seconds: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  non2xx: number;
  /** The latency at every tenth of a percentile, 0.1 to 100, ms (QUANTILE_STEPS values; empty if not printed). */
  quantiles: number[];
}

/** Points of the quantile function the script prints: one per tenth of a percentile. */
export const QUANTILE_STEPS = 1000;

/** A Lua script that sends GET requests over `paths` in random order with `headers`. */
export function wrkScript(paths: readonly string[], headers: Record<string, string>): string {
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal here (ASCII)
  const hs = Object.entries(headers)
    .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
    .join('\n');
  return [
    hs,
    `local paths = { ${paths.map(lua).join(', ')} }`,
    'local n = #paths',
    'local i = 0',
    'function setup(thread) thread:set("seed", math.random(1, 1e6)) end',
    'function init(args) math.randomseed(seed or 1) i = math.random(1, n) end',
    'request = function()',
    '  i = (i % n) + 1',
    '  return wrk.format("GET", paths[i])',
    'end',
    'function done(summary, latency, requests)',
    '  local q = {}',
    // the top point is the maximum: wrk's percentile(100) ranks past its last sample and answers 0
    `  for k = 1, ${QUANTILE_STEPS - 1} do q[k] = latency:percentile(k * 100 / ${QUANTILE_STEPS}) end`,
    `  q[${QUANTILE_STEPS}] = latency.max`,
    '  io.write("quantiles_us ", table.concat(q, " "), "\\n")',
    'end',
    '',
  ].join('\n');
}

/** Milliseconds of a wrk duration ("812.00us", "1.20ms", "2.01s"). */
export function wrkMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

/** Parses wrk's `--latency` output. */
export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? Number.NaN);
  const pct = (p: string): number => wrkMs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const quantiles = /^quantiles_us ([\d. ]+)$/m
    .exec(out)?.[1]
    ?.trim()
    .split(/\s+/)
    .map((us) => Number(us) / 1000);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    seconds: wrkMs(/\d+ requests in ([\d.]+\w+),/.exec(out)?.[1] ?? '') / 1000,
    p50: pct('50'),
    p99: pct('99'),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    quantiles: quantiles?.length === QUANTILE_STEPS ? quantiles : [],
  };
}

/**
 * Several runs against one server as one: requests and time summed, the latency percentiles of all their
 * requests (each run's quantile function weighted by its requests: right to within a tenth of a percentile).
 * Percentiles are NaN when a run printed no quantile function.
 */
export function mergeWrk(runs: readonly WrkResult[]): WrkResult {
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const complete = runs.length > 0 && runs.every((r) => r.quantiles.length === QUANTILE_STEPS);
  const points = complete
    ? runs.flatMap((r) => r.quantiles.map((ms) => ({ ms, weight: r.requests / QUANTILE_STEPS })))
    : [];
  points.sort((a, b) => a.ms - b.ms);
  // the merged quantile function in one walk up the sorted points; p50 and p99 are two of its points
  const quantiles: number[] = [];
  let seen = 0;
  for (const x of points) {
    seen += x.weight;
    while (
      quantiles.length < QUANTILE_STEPS &&
      seen >= ((quantiles.length + 1) / QUANTILE_STEPS) * requests * (1 - 1e-12)
    )
      quantiles.push(x.ms);
  }
  const at = (p: number): number => quantiles[Math.round((p / 100) * QUANTILE_STEPS) - 1] ?? Number.NaN;
  return {
    rps: requests / seconds,
    requests,
    seconds,
    p50: at(50),
    p99: at(99),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    quantiles,
  };
}

/** Runs wrk against `url` for `seconds` over `paths`. */
export async function runWrk(
  url: string,
  paths: readonly string[],
  headers: Record<string, string>,
  seconds: number,
): Promise<WrkResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-wrk-'));
  const script = path.join(dir, 'paths.lua');
  fs.writeFileSync(script, wrkScript(paths, headers));
  try {
    const args = ['-t2', '-c32', `-d${Math.max(1, Math.round(seconds))}s`, '--latency', '-s', script, url];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(WRK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    return parseWrk(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
