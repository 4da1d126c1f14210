/**
 * The bench's enrollment-time checks: how soon a device that just enrolled has its first complete
 * verdict, and what answering those checks costs.
 *
 * - `answerEnrollmentChecks`: right after the fleet enrolled, every host answers the checks the server
 *   queued at its enrollment (one distributed poll each, as osqueryd's first poll after its config), so
 *   the check-in phases after it measure steady check-ins; its server CPU per host is a figure.
 * - `firstVerdict`: N new hosts enroll at once against their own fresh server on the real clock at
 *   osquery defaults (enroll, config, first poll with the queued checks and `accelerate`, answers), while
 *   a gateway polls the verdict bundle every 500 ms, as one that decides locally does. A host's time is
 *   from its enrollment (the server's `enrolled_at`) to the first bundle that shows its verdict complete
 *   (no check of any tier unknown); the burst's check-in latency is measured beside it.
 */
import { createFleet } from '../sim/fleet.js';
import { createHttpTransport } from '../sim/transport.js';
import { completeSerials } from '../sim/verdicts.js';
import { request } from './clients.js';
import { percentile } from './load.js';
import { eachOnce } from './loops.js';
import { waitQuiet, type Bench } from './phases.js';
import { cpuMs } from './proc.js';
import { startServerProcess } from './server-process.js';
import { below, type BenchRow } from './table.js';

export interface FirstVerdictFigures {
  /** Server CPU per host answering its enrollment-time checks (one poll: the queries, then the answers). */
  cpuMsPerEnrollmentAnswer: number;
  /** Enrollment → first complete verdict over N hosts enrolling at once (seconds). */
  firstVerdictP50: number;
  firstVerdictP95: number;
  firstVerdictMax: number;
  /** Hosts whose complete verdict was seen, and hosts still incomplete when the phase gave up. */
  firstVerdictMeasured: number;
  firstVerdictIncomplete: number;
  /** Wall time until every host of the burst had enrolled. */
  burstEnrollSeconds: number;
  /** distributed/read latency of the burst's hosts (ms). */
  burstReadP50: number;
  burstReadP99: number;
}

/** Every host answers the checks queued at its enrollment (one distributed poll each). */
export async function answerEnrollmentChecks(b: Bench): Promise<Pick<FirstVerdictFigures, 'cpuMsPerEnrollmentAnswer'>> {
  b.log(`[${b.n}] enrollment-time checks answered`);
  const cpu0 = cpuMs(b.server.pid);
  await eachOnce(b.n, 64, (i) => b.fleet.pollNow(i));
  await waitQuiet(b);
  return { cpuMsPerEnrollmentAnswer: (cpuMs(b.server.pid) - cpu0) / b.n };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Enrollment → first complete verdict of N new hosts enrolling at once on a fresh server. */
export async function firstVerdict(b: Bench): Promise<Omit<FirstVerdictFigures, 'cpuMsPerEnrollmentAnswer'>> {
  const { n, d } = b;
  b.log(`[${n}] enrollment → first complete verdict (${n} new hosts at once, own server)`);
  // the loaded fleet stands still meanwhile: the burst has the machine to itself
  b.clock.pause();
  await waitQuiet(b);
  const server = await startServerProcess({});
  const transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 64 });
  const fleet = createFleet({ hosts: n, transport, enrollSecret: server.enrollSecret, seed: 14, driftPerHour: 0 });
  const seenAt = new Map<string, number>();
  try {
    const t0 = Date.now();
    const starting = fleet.startNow();
    let burstEnrollSeconds = Number.NaN;
    const deadline = t0 + (d.enrollTimeout + 120) * 1000;
    while (seenAt.size < n && Date.now() < deadline) {
      const polled = Date.now();
      const r = await request(`${server.url}/api/v1/verdicts/bundle`, server.caPem, 'GET', server.gatewayToken);
      const at = Date.now();
      for (const s of completeSerials(r.json)) if (!seenAt.has(s)) seenAt.set(s, at);
      if (Number.isNaN(burstEnrollSeconds) && fleet.stats().enrolled >= n) burstEnrollSeconds = (at - t0) / 1000;
      await sleep(Math.max(0, 500 - (Date.now() - polled)));
    }
    await Promise.race([starting, sleep(5000)]);
    const list = await request(`${server.url}/api/v1/hosts?limit=100000`, server.caPem, 'GET', server.adminToken);
    const hosts = (list.json as { hosts?: Array<{ serial: string; enrolled_at: string }> } | null)?.hosts ?? [];
    const times: number[] = [];
    for (const h of hosts) {
      const seen = seenAt.get(h.serial);
      if (seen !== undefined) times.push((seen - Date.parse(h.enrolled_at)) / 1000);
    }
    times.sort((x, y) => x - y);
    const read = fleet.stats().endpoints.read.latency;
    return {
      firstVerdictP50: percentile(times, 50),
      firstVerdictP95: percentile(times, 95),
      firstVerdictMax: times.length ? Math.max(...times) : Number.NaN,
      firstVerdictMeasured: times.length,
      firstVerdictIncomplete: n - times.length,
      burstEnrollSeconds,
      burstReadP50: read.percentile(50),
      burstReadP99: read.percentile(99),
    };
  } finally {
    await fleet.stop();
    transport.close();
    fleet.engine.close();
    await server.stop();
  }
}

/** The table's rows of this module (RowOf of rows.ts: a value per fleet size picked from its figures). */
export function firstVerdictRows(
  row: (
    name: string,
    unit: string,
    pick: (f: FirstVerdictFigures) => number | string | null,
    extra?: Partial<BenchRow>,
  ) => BenchRow,
): BenchRow[] {
  const pair = (a: number, c: number): string => `${a.toFixed(1)} / ${c.toFixed(1)}`;
  return [
    row('server CPU per host, answering its enrollment-time checks', 'CPU-ms', (f) => f.cpuMsPerEnrollmentAnswer, {
      note: "one distributed poll: every check of the host's platform, queued at enrollment, then the answers",
    }),
    row('enrollment → first complete verdict p50', 's', (f) => f.firstVerdictP50, {
      note:
        'N new hosts enroll at once on their own server, real clock, osquery defaults; from enrolled_at to the ' +
        'first verdict bundle (polled every 500 ms) with no check unknown',
    }),
    row('enrollment → first complete verdict p95', 's', (f) => f.firstVerdictP95, {
      target: below(30, '< 30 s'),
    }),
    row('  hosts measured / still incomplete', 'hosts', (f) => {
      const enrolled = `all enrolled in ${f.burstEnrollSeconds.toFixed(1)} s`;
      return `${f.firstVerdictMeasured} / ${f.firstVerdictIncomplete} (${enrolled})`;
    }),
    row('check-in latency p50 / p99 while they enroll', 'ms', (f) => pair(f.burstReadP50, f.burstReadP99), {
      note: 'distributed/read of the burst (the first poll brings the checks): compare with the steady row above',
    }),
  ];
}
