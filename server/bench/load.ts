/**
 * HTTP load for the bench, run in its own process (`runLoad`): the simulated fleet's large heap and
 * its garbage collections must not show up as server latency, and the server is measured as an
 * independent client would see it.
 *
 * - `cannon`: autocannon (npm), 32 keep-alive connections, closed loop, as fast as the server answers.
 * - `paced`: open loop at a steady rate: requests start evenly (every millisecond, the ones due by then)
 *   over keep-alive connections, whatever the answers do. autocannon's rate option sends each second's
 *   quota as one burst, which measures the burst's queueing rather than the latency at that rate.
 *   The first second opens the connections (TLS handshakes) and is not counted. With an `alternate`
 *   server, the loop measures both in one window, switching between them every slice (ABBA): the same
 *   machine, the same fleet reporting, for both.
 *
 * Requests rotate over `paths` and `headerSets`, so a run spreads over many devices.
 */
import { spawn } from 'node:child_process';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { abba } from './loops.js';

export interface LoadSpec {
  kind: 'cannon' | 'paced';
  url: string;
  caPem: string;
  seconds: number;
  /** Requests per second (paced). */
  rate?: number;
  headers: Record<string, string>;
  /** GET paths, used in turn. */
  paths: string[];
  /** Extra headers per request, used in turn (forward-auth). */
  headerSets?: Array<Record<string, string>>;
  /**
   * Paced only: a second server measured in the same window, in slices of `sliceSeconds` taken in turn
   * (ABBA) with the first; each gets `seconds` in all, at `rate`, over its own connections.
   */
  alternate?: Pick<LoadSpec, 'url' | 'headers' | 'paths'> & { sliceSeconds: number };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/** The p-th percentile (nearest rank) of sorted values; NaN when there are none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length
    ? (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN)
    : Number.NaN;

/** Where a load's requests go: a server, the headers and the paths to use in turn. */
type Target = Pick<LoadSpec, 'url' | 'headers' | 'paths' | 'headerSets'>;

function rotation(target: Target): () => { path: string; headers: Record<string, string> } {
  let k = 0;
  return () => {
    const i = k++;
    const extra = target.headerSets?.length ? target.headerSets[i % target.headerSets.length] : undefined;
    return {
      path: target.paths[i % target.paths.length] ?? '/',
      headers: extra ? { ...target.headers, ...extra } : target.headers,
    };
  };
}

async function cannon(spec: LoadSpec): Promise<LoadResult> {
  const next = rotation(spec);
  const r = await autocannon({
    url: spec.url,
    connections: 32,
    duration: spec.seconds,
    headers: spec.headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          const n = next();
          return { ...req, path: n.path, headers: { ...(req.headers ?? {}), ...n.headers } };
        },
      },
    ],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
}

/** A target of an open loop: where, over which connections, the next request, its latencies. */
interface Leg {
  target: Target;
  agent: https.Agent;
  next: () => { path: string; headers: Record<string, string> };
  latencies: number[];
  non2xx: number;
  sent: number;
}

const legOf = (target: Target, caPem: string): Leg => ({
  target,
  agent: new https.Agent({ keepAlive: true, maxSockets: 64, ca: caPem }),
  next: rotation(target),
  latencies: [],
  non2xx: 0,
  sent: 0,
});

const resultOf = (leg: Leg, seconds: number): LoadResult => {
  const sorted = [...leg.latencies].sort((a, b) => a - b);
  return { rps: leg.sent / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), non2xx: leg.non2xx };
};

/**
 * `total` requests at `rate` per second, request i going to `legs[which(i)]`; each leg's latencies and
 * failures recorded in the leg (its counts start from zero). Resolves with the elapsed seconds.
 */
async function openLoop(legs: Leg[], rate: number, total: number, which: (i: number) => number): Promise<number> {
  for (const leg of legs) [leg.latencies, leg.non2xx, leg.sent] = [[], 0, 0];
  let started = 0;
  let finished = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const done = () => {
      if (++finished === total) resolve();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      for (; started < due; started++) {
        const leg = legs[which(started)] ?? legs[0];
        if (!leg) throw new Error('an open loop needs a target');
        const n = leg.next();
        const at = performance.now();
        leg.sent++;
        const req = https.request(`${leg.target.url}${n.path}`, { agent: leg.agent, headers: n.headers }, (res) => {
          res.resume();
          res.on('end', () => {
            leg.latencies.push(performance.now() - at);
            if ((res.statusCode ?? 0) >= 300) leg.non2xx++;
            done();
          });
        });
        req.on('error', () => {
          leg.non2xx++;
          done();
        });
        req.end();
      }
      if (started < total) setTimeout(tick, 1);
    };
    tick();
  });
  return (performance.now() - t0) / 1000;
}

/**
 * The open loop at `rate` for `seconds`, after one uncounted second per target that opens its connections.
 * With `alternate`, the loop switches target every `sliceSeconds` (ABBA) and each gets `seconds` in all.
 */
async function paced(spec: LoadSpec): Promise<LoadResult & { alternate?: LoadResult }> {
  const rate = spec.rate ?? 1000;
  const legs = [legOf(spec, spec.caPem), ...(spec.alternate ? [legOf(spec.alternate, spec.caPem)] : [])];
  try {
    for (let t = 0; t < legs.length; t++) await openLoop(legs, rate, rate, () => t);
    const perSlice = Math.max(1, Math.round(rate * (spec.alternate?.sliceSeconds ?? spec.seconds)));
    const total = Math.max(1, Math.floor(rate * spec.seconds)) * legs.length;
    const elapsed = await openLoop(legs, rate, total, (i) => (legs.length > 1 ? abba(Math.floor(i / perSlice)) : 0));
    const [main, alternate] = legs.map((leg) => resultOf(leg, (elapsed * leg.sent) / total));
    if (!main) throw new Error('an open loop needs a target');
    return alternate ? { ...main, alternate } : main;
  } finally {
    for (const leg of legs) leg.agent.destroy();
  }
}

/** Runs one load in this process. */
export function runLoadHere(spec: LoadSpec): Promise<LoadResult & { alternate?: LoadResult }> {
  return spec.kind === 'cannon' ? cannon(spec) : paced(spec);
}

/** Runs one load in a child process (the spec goes over stdin, the result comes back on stdout). */
export function runLoad(spec: LoadSpec): Promise<LoadResult & { alternate?: LoadResult }> {
  // `--import tsx` resolves from the working directory: the repository root
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stdin.end(JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`load process exited with ${code}`);
        resolve(JSON.parse(out) as LoadResult & { alternate?: LoadResult });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let input = '';
  process.stdin.on('data', (c: Buffer) => {
    input += c.toString('utf8');
  });
  process.stdin.on('end', () => {
    runLoadHere(JSON.parse(input) as LoadSpec).then(
      (r) => {
        process.stdout.write(JSON.stringify(r));
        process.exit(0);
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
}
