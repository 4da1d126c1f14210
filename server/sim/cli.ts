/**
 * `trustgate simulate`: N simulated osquery agents in this process against a Trustgate server.
 * CLI output code: progress goes to stderr, the final summary to stdout.
 */
import fs from 'node:fs';
import { createFleet, DEFAULT_FLAGS, type Fleet, type FleetStats, type ProfileMode } from './fleet.js';
import { createHttpTransport, type Transport } from './transport.js';

export const SIMULATE_HELP = `Usage: trustgate simulate --hosts N [options]

Runs N simulated osquery agents in one process. Each enrolls with realistic host_details, fetches its
config, runs the scheduled pack queries against SQLite tables shaped like osquery's (filled from
compliant and failing host profiles), sends results every logger_tls_period, polls distributed/read
and answers rechecks, exactly as osqueryd does on the wire.

Options:
  --hosts N              number of simulated hosts (required)
  --server URL           server base URL (default https://localhost:8443)
  --secret-file F        enroll secret file (default ./data/enroll_secret)
  --ca-file F            CA bundle the server certificate is checked against (default ./certs/ca.crt if present)
  --profile P            mixed | compliant | failing (default mixed: about a quarter failing)
  --failing-share X      share of failing hosts in mixed mode, 0..1 (default 0.25)
  --time-scale K         run K times faster than real time: every interval is divided by K (default 1)
  --seed S               fleet seed: the same seed gives the same serials, UUIDs and profiles (default 1)
  --ramp SECONDS         spread host start-up over this many real seconds (default: hosts/500, at most 60)
  --drift X              chance per host per simulated hour that its posture changes (default 0.05)
  --concurrency C        concurrent HTTPS connections (default 64)
  --config-refresh S     osquery --config_refresh seconds (default ${DEFAULT_FLAGS.config_refresh})
  --duration SECONDS     stop after this many real seconds (default: run until Ctrl-C)
  --tls-client-cert P    client certificate of each host, as osqueryd's flag: {serial} in P is the host's
  --tls-client-key P     serial, so each host has its own TLS identity (e.g. certs/devices/{serial}.crt)
  --device-certs DIR     the same with DIR/<serial>.crt and DIR/<serial>.key (trustgate device-cert issue)
  --list-serials         print the serials of the fleet (--hosts, --seed) and exit: issue their certificates
                         with "trustgate device-cert issue --serials-file F --out DIR"
  --json                 print the final summary as JSON
  --help                 this text
`;

export interface SimulateDefaults {
  server?: string;
  secretFile?: string;
  caFile?: string;
}

interface Parsed {
  flags: Map<string, string>;
  bools: Set<string>;
}

function parse(argv: readonly string[]): Parsed {
  const flags = new Map<string, string>();
  const bools = new Set<string>();
  const booleans = new Set(['help', 'json', 'list-serials']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h') {
      bools.add('help');
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.has(name)) bools.add(name);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      flags.set(name, v);
      i++;
    }
  }
  return { flags, bools };
}

const KNOWN = new Set([
  'hosts',
  'server',
  'secret-file',
  'ca-file',
  'profile',
  'failing-share',
  'time-scale',
  'seed',
  'ramp',
  'drift',
  'concurrency',
  'config-refresh',
  'duration',
  'tls-client-cert',
  'tls-client-key',
  'device-certs',
]);

/** A device serial as a file name (as `trustgate device-cert issue` writes it). */
const fileNameOf = (serial: string): string => serial.replace(/[^A-Za-z0-9._-]/g, '_');

/** The client certificate and key paths of a host, from the patterns (or the directory) given. */
function clientCertPaths(p: Parsed): ((serial: string) => { cert: string; key: string }) | undefined {
  const dir = p.flags.get('device-certs');
  const certPattern = p.flags.get('tls-client-cert') ?? (dir ? `${dir}/{serial}.crt` : undefined);
  const keyPattern = p.flags.get('tls-client-key') ?? (dir ? `${dir}/{serial}.key` : undefined);
  if (certPattern === undefined && keyPattern === undefined) return undefined;
  if (certPattern === undefined || keyPattern === undefined) {
    throw new Error('--tls-client-cert and --tls-client-key go together');
  }
  return (serial) => ({
    cert: certPattern.replaceAll('{serial}', fileNameOf(serial)),
    key: keyPattern.replaceAll('{serial}', fileNameOf(serial)),
  });
}

/** Each host on its own connection presenting its own certificate (as every real osqueryd does). */
function ownIdentities(fleet: Fleet, hosts: number, server: string, caPem: string | undefined, p: Parsed): Transport[] {
  const paths = clientCertPaths(p);
  if (!paths) return [];
  const out: Transport[] = [];
  for (let i = 0; i < hosts; i++) {
    const files = paths(fleet.agent(i).serial);
    let cert: string;
    let key: string;
    try {
      cert = fs.readFileSync(files.cert, 'utf8');
      key = fs.readFileSync(files.key, 'utf8');
    } catch {
      throw new Error(`cannot read the client certificate ${files.cert} / key ${files.key} of host ${i}`);
    }
    const t = createHttpTransport({ url: server, caPem, cert, key, maxSockets: 2 });
    fleet.ownConnection(i, t);
    out.push(t);
  }
  return out;
}

function num(p: Parsed, name: string, dflt: number, min: number, max = Number.POSITIVE_INFINITY): number {
  const raw = p.flags.get(name);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max)
    throw new Error(`--${name} must be a number between ${min} and ${max}`);
  return v;
}

export function progressLine(s: FleetStats): string {
  const errors = Object.values(s.endpoints).reduce((n, e) => n + e.failed, 0);
  return (
    `enrolled ${s.enrolled}/${s.hosts} · checked-in ${s.checkedIn} · failing ${s.failing}` +
    ` · results acked ${s.resultLinesAcked} · buffered ${s.bufferedLines} · errors ${errors}`
  );
}

export function summary(s: FleetStats): Record<string, unknown> {
  const ep = Object.fromEntries(
    Object.entries(s.endpoints).map(([k, e]) => [
      k,
      { ok: e.ok, failed: e.failed, p50_ms: round(e.latency.percentile(50)), p99_ms: round(e.latency.percentile(99)) },
    ]),
  );
  return {
    hosts: s.hosts,
    enrolled: s.enrolled,
    checked_in: s.checkedIn,
    failing: s.failing,
    enroll_requests: s.enrollRequests,
    node_invalid: s.nodeInvalid,
    result_lines_acked: s.resultLinesAcked,
    status_lines_acked: s.statusLinesAcked,
    result_rows_acked: s.resultRowsAcked,
    buffered_lines: s.bufferedLines,
    scheduled_queries_run: s.queriesRun,
    distributed_queries_run: s.distributedRun,
    drift_events: s.driftEvents,
    endpoints: ep,
  };
}

const round = (v: number): number => Math.round(v * 100) / 100;

interface Setup {
  fleet: Fleet;
  hosts: number;
  duration: number;
  closeTransport: () => void;
}

/** The fleet the options describe; throws with a message for the user on a bad option or file. */
function setUp(p: Parsed, defaults: SimulateDefaults): Setup {
  if (!p.flags.has('hosts')) throw new Error('--hosts is required');
  const hosts = Math.floor(num(p, 'hosts', 0, 1, 10_000_000));
  const profile = p.flags.get('profile') ?? 'mixed';
  if (profile !== 'mixed' && profile !== 'compliant' && profile !== 'failing')
    throw new Error('--profile must be mixed, compliant or failing');
  const server = p.flags.get('server') ?? defaults.server ?? 'https://localhost:8443';
  const secretFile = p.flags.get('secret-file') ?? defaults.secretFile ?? 'data/enroll_secret';
  const caFile =
    p.flags.get('ca-file') ?? defaults.caFile ?? (fs.existsSync('certs/ca.crt') ? 'certs/ca.crt' : undefined);
  let secret: string;
  try {
    // osquery trims the secret file's contents.
    secret = fs.readFileSync(secretFile, 'utf8').trim();
  } catch {
    throw new Error(`cannot read the enroll secret file ${secretFile} (use --secret-file)`);
  }
  const caPem = caFile ? fs.readFileSync(caFile, 'utf8') : undefined;
  const duration = num(p, 'duration', 0, 0);
  const transport = createHttpTransport({
    url: server,
    caPem,
    maxSockets: Math.floor(num(p, 'concurrency', 64, 1, 4096)),
  });
  const fleet = createFleet({
    hosts,
    transport,
    enrollSecret: secret,
    profile: profile as ProfileMode,
    failingShare: num(p, 'failing-share', 0.25, 0, 1),
    timeScale: num(p, 'time-scale', 1, 0.001, 100_000),
    seed: Math.floor(num(p, 'seed', 1, 0, 2 ** 31)),
    rampSeconds: num(p, 'ramp', Math.min(60, hosts / 500), 0),
    driftPerHour: num(p, 'drift', 0.05, 0),
    flags: { config_refresh: num(p, 'config-refresh', DEFAULT_FLAGS.config_refresh, 0) },
  });
  const own = ownIdentities(fleet, hosts, server, caPem, p);
  return {
    fleet,
    hosts,
    duration,
    closeTransport: () => {
      transport.close();
      for (const t of own) t.close();
    },
  };
}

/** Resolves on Ctrl-C, SIGTERM, or after `duration` seconds (0: never). */
function untilStopped(duration: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (duration > 0) setTimeout(done, duration * 1000).unref();
  });
}

/** Prints the serials of the fleet `--hosts` and `--seed` describe (no server needed). */
function listSerials(p: Parsed): number {
  try {
    const hosts = Math.floor(num(p, 'hosts', 0, 1, 10_000_000));
    const fleet = createFleet({
      hosts,
      transport: { post: () => Promise.reject(new Error('no server')), inFlight: () => 0, close: () => undefined },
      enrollSecret: '',
      seed: Math.floor(num(p, 'seed', 1, 0, 2 ** 31)),
    });
    const lines: string[] = [];
    for (let i = 0; i < hosts; i++) lines.push(fleet.agent(i).serial);
    fleet.engine.close();
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}

/** Runs the simulator; returns the process exit code (0 ok, 2 usage error, 1 failure). */
export async function runSimulate(argv: string[], defaults: SimulateDefaults = {}): Promise<number> {
  let p: Parsed;
  try {
    p = parse(argv);
    for (const k of p.flags.keys()) if (!KNOWN.has(k)) throw new Error(`unknown option --${k}`);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${SIMULATE_HELP}`);
    return 2;
  }
  if (p.bools.has('help')) {
    process.stdout.write(SIMULATE_HELP);
    return 0;
  }
  if (p.bools.has('list-serials')) return listSerials(p);
  let setup: Setup;
  try {
    setup = setUp(p, defaults);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const { fleet, hosts } = setup;
  fleet.start();
  const started = Date.now();
  process.stderr.write(`simulating ${hosts} osquery hosts (Ctrl-C to stop)\n`);
  const progress = setInterval(() => process.stderr.write(`\r${progressLine(fleet.stats())}   `), 2000);
  await untilStopped(setup.duration);
  clearInterval(progress);
  await fleet.stop();
  setup.closeTransport();
  const s = fleet.stats();
  fleet.engine.close();
  process.stderr.write(`\r${progressLine(s)}\n`);
  const out = { ...summary(s), seconds: Math.round((Date.now() - started) / 1000) };
  if (p.bools.has('json')) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else {
    process.stdout.write(
      `simulated ${s.hosts} hosts for ${out.seconds}s: ${s.enrolled} enrolled, ${s.checkedIn} checked in, ` +
        `${s.failing} failing, ${s.resultLinesAcked} result lines and ${s.statusLinesAcked} status lines ` +
        `acknowledged, ${s.distributedRun} distributed queries answered\n`,
    );
  }
  const errors = Object.values(s.endpoints).reduce((n, e) => n + e.failed, 0);
  return s.enrolled === 0 && errors > 0 ? 1 : 0;
}
