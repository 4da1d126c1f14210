/**
 * HTTP load for the bench, run in its own process (`runLoad`): the simulated fleet's large heap and
 * its garbage collections must not show up as server latency, and the server is measured as an
 * independent client would see it.
 *
 * - `cannon`: autocannon (npm), 32 keep-alive connections, closed loop, as fast as the server answers.
 * - `paced`: open loop at a steady rate: requests start evenly (every millisecond, the ones due by then)
 *   over keep-alive connections, whatever the answers do. autocannon's rate option sends each second's
 *   quota as one burst, which measures the burst's queueing rather than the latency at that rate.
 *   The first second opens the connections (TLS handshakes) and is not counted.
 *
 * Requests rotate over `paths` and `headerSets`, so a run spreads over many devices.
 */
import { spawn } from 'node:child_process';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

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

function rotation(spec: LoadSpec): () => { path: string; headers: Record<string, string> } {
  let k = 0;
  return () => {
    const i = k++;
    const extra = spec.headerSets?.length ? spec.headerSets[i % spec.headerSets.length] : undefined;
    return {
      path: spec.paths[i % spec.paths.length] ?? '/',
      headers: extra ? { ...spec.headers, ...extra } : spec.headers,
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

async function openLoop(
  agent: https.Agent,
  spec: LoadSpec,
  seconds: number,
  next: ReturnType<typeof rotation>,
): Promise<LoadResult> {
  const rate = spec.rate ?? 1000;
  const latencies: number[] = [];
  let non2xx = 0;
  const total = Math.max(1, Math.floor(rate * seconds));
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
        const n = next();
        const at = performance.now();
        const req = https.request(`${spec.url}${n.path}`, { agent, headers: n.headers }, (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - at);
            if ((res.statusCode ?? 0) >= 300) non2xx++;
            done();
          });
        });
        req.on('error', () => {
          non2xx++;
          done();
        });
        req.end();
      }
      if (started < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: total / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), non2xx };
}

async function paced(spec: LoadSpec): Promise<LoadResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: spec.caPem });
  const next = rotation(spec);
  try {
    await openLoop(agent, spec, 1, next);
    return await openLoop(agent, spec, spec.seconds, next);
  } finally {
    agent.destroy();
  }
}

/** Runs one load in this process. */
export function runLoadHere(spec: LoadSpec): Promise<LoadResult> {
  return spec.kind === 'cannon' ? cannon(spec) : paced(spec);
}

/** Runs one load in a child process (the spec goes over stdin, the result comes back on stdout). */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
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
        resolve(JSON.parse(out) as LoadResult);
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
