/**
 * `npm run bench`: loads a real Trustgate server process with a simulated osquery fleet at 1k, 10k and
 * 100k hosts and prints one table. CLI output code (console output is the point).
 *
 *   npm run bench -- --hosts 1000,10000   choose the fleet sizes
 *   npm run bench -- --quick              short phases (a smoke run)
 *   npm run bench -- --json               the figures as JSON after the table
 *   npm run bench -- --gateway            only the gateway-under-load suite (gateway-suite.ts; wrk rows
 *                                         when /usr/bin/wrk is installed), --runs N wrk runs (default 5)
 *   TRUSTGATE_MALLOC=system npm run bench   the C library's malloc; by default the server and the bare Node
 *                                         baseline run on jemalloc when installed, as `npm start` runs
 *                                         (server-process.ts)
 */
import os from 'node:os';
import { buildRows } from './rows.js';
import { FULL, QUICK, type BenchFigures } from './figures.js';
import { runAtSize } from './run.js';
import { renderTable } from './table.js';
import { runGatewaySuite, type GatewayFigures } from './gateway-suite.js';
import { renderGatewayTable } from './gateway-report.js';
import { serverAllocator } from './server-process.js';

export interface BenchArgs {
  sizes: number[];
  quick: boolean;
  json: boolean;
  seed: number;
  gateway: boolean;
  runs: number;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = {
    sizes: [1000, 10_000, 100_000],
    quick: false,
    json: false,
    seed: 1,
    gateway: false,
    runs: 5,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--hosts') {
      out.sizes = value()
        .split(',')
        .map((s) => Number(s.trim().replace(/k$/i, '000')))
        .filter((x) => Number.isInteger(x) && x > 0)
        .sort((x, y) => x - y);
      if (out.sizes.length === 0)
        throw new Error('--hosts takes a comma-separated list of fleet sizes, e.g. 1000,10000');
    } else if (name === '--quick') out.quick = true;
    else if (name === '--json') out.json = true;
    else if (name === '--seed') out.seed = Number(value());
    else if (name === '--gateway') out.gateway = true;
    else if (name === '--runs') out.runs = Math.max(1, Math.floor(Number(value())) || 1);
    else throw new Error(`unknown option ${a}`);
  }
  return out;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  let allocator: string;
  try {
    args = parseBenchArgs(argv);
    allocator = serverAllocator().label;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const cores = os.cpus().length;
  console.error(
    `trustgate bench: ${args.sizes.join(', ')} hosts on ${cores} × ${os.cpus()[0]?.model ?? 'cpu'}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}${args.quick ? ' (quick)' : ''}; ` +
      `server on ${allocator}`,
  );
  if (args.gateway) return gatewayMain(args);
  const results: BenchFigures[] = [];
  for (const hosts of args.sizes) {
    const started = Date.now();
    const f = await runAtSize({
      hosts,
      durations: args.quick ? QUICK : FULL,
      seed: args.seed,
      cores,
      log: (m) => console.error(m),
    });
    console.error(`[${hosts}] done in ${Math.round((Date.now() - started) / 1000)} s`);
    results.push(f);
    // Each size's column as soon as it is measured (a long run keeps what it has).
    if (hosts !== args.sizes[args.sizes.length - 1]) console.error(renderTable(buildRows([f], cores), [hosts]));
  }
  console.log(renderTable(buildRows(results, cores), args.sizes));
  if (args.json) console.log(JSON.stringify(results, null, 2));
  return 0;
}

/** `--gateway`: the gateway-under-load suite at each size, one table per size as soon as it is measured. */
async function gatewayMain(args: BenchArgs): Promise<number> {
  const all: GatewayFigures[] = [];
  for (const hosts of args.sizes) {
    const started = Date.now();
    const g = await runGatewaySuite({
      hosts,
      durations: args.quick ? QUICK : FULL,
      runs: args.quick ? Math.min(args.runs, 2) : args.runs,
      seed: args.seed,
      log: (m) => console.error(m),
    });
    console.error(`[${hosts}] done in ${Math.round((Date.now() - started) / 1000)} s`);
    console.log(renderGatewayTable(g));
    all.push(g);
  }
  if (args.json) console.log(JSON.stringify(all, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
