/**
 * `npm run demo`: starts a Trustgate server (its own process, fresh data and a copy of the checkout's
 * packs/ in a temp directory, so the demo's policy edits never touch the repository) and a simulated
 * fleet of a few hundred osquery hosts against it, then prints where to look. A progress line shows
 * enrolled / checked-in / failing while it runs; Ctrl-C stops both and removes the temp directory.
 * CLI output code.
 *
 *   npm run demo -- --hosts 500 --time-scale 20 --port 9443
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFleet, type Fleet } from './fleet.js';
import { progressLine } from './cli.js';
import { createHttpTransport } from './transport.js';
import { completeSerials } from './verdicts.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'server/cli/bin.js');

export interface DemoIo {
  /** Where the tour goes (default stdout). */
  print?: (line: string) => void;
  /** Where the progress line goes (default stderr). */
  progress?: (text: string) => void;
  /** Stops the demo like Ctrl-C does. */
  signal?: AbortSignal;
}

function flag(argv: readonly string[], name: string, dflt: number): number {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return dflt;
  const a = argv[i] ?? '';
  const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function getJson(url: string, caPem: string, token: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { ca: caPem, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: null });
          }
        });
      },
    );
    req.on('error', () => resolve({ status: 0, json: null }));
  });
}

const field = (j: unknown, k: string): unknown =>
  typeof j === 'object' && j !== null && k in j ? (j as Record<string, unknown>)[k] : undefined;

/** A free port: `port` if it is free, else one the system picks. */
async function pickPort(port: number): Promise<number> {
  if (port !== 0 && (await portFree(port))) return port;
  return new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface DemoServer {
  process: ChildProcess;
  root: string;
  url: string;
  caFile: string;
  caPem: string;
  secret: string;
  /** The server's settings as flags (the CLI commands take the same). */
  settings: string[];
}

/** Starts `trustgate serve` on fresh data in a temp directory and waits until it is ready. */
async function startServer(port: number, out: (line: string) => void): Promise<DemoServer | undefined> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-demo-'));
  const url = `https://127.0.0.1:${port}`;
  // the demo's own packs: a PUT /api/v1/packs or /policy during the demo writes here, not into the checkout
  const packsDir = path.join(root, 'packs');
  fs.cpSync(path.join(ROOT, 'packs'), packsDir, { recursive: true });
  // Settings go as flags: they win over any TRUSTGATE_* variables of the caller's environment.
  const settings = [
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--data-dir',
    path.join(root, 'data'),
    '--certs-dir',
    path.join(root, 'certs'),
    '--packs-dir',
    packsDir,
    '--public-url',
    url,
    '--log-level',
    'warn',
  ];
  out(`Starting Trustgate on ${url} (data in ${root}) …`);
  const server: ChildProcess = spawn(process.execPath, [BIN, 'serve', ...settings], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The server's first-start banner and warnings are kept for a failure report; the tour replaces them.
  let serverErr = '';
  server.stderr?.on('data', (c: Buffer) => {
    serverErr = (serverErr + c.toString('utf8')).slice(-4000);
  });
  const caFile = path.join(root, 'certs', 'ca.crt');
  const started = Date.now();
  for (;;) {
    if (server.exitCode !== null) {
      process.stderr.write(`the server exited with code ${server.exitCode}\n${serverErr}\n`);
      return undefined;
    }
    if (fs.existsSync(caFile) && (await getJson(`${url}/readyz`, fs.readFileSync(caFile, 'utf8'), '')).status === 200)
      break;
    if (Date.now() - started > 60_000) {
      server.kill('SIGTERM');
      process.stderr.write(`the server did not become ready within 60 s\n${serverErr}\n`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const caPem = fs.readFileSync(caFile, 'utf8');
  const secret = fs.readFileSync(path.join(root, 'data', 'enroll_secret'), 'utf8').trim();
  return { process: server, root, url, caFile, caPem, secret, settings };
}

/** An API token of `role`, created with the CLI on the demo server's data. */
function createToken(s: DemoServer, role: string): string {
  const r = spawnSync(
    process.execPath,
    [BIN, 'token', 'create', '--role', role, '--name', `demo-${role}`, '--json', ...s.settings],
    { cwd: s.root, encoding: 'utf8' },
  );
  const parsed: unknown = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  const t = field(parsed, 'token');
  if (typeof t !== 'string') throw new Error(`could not create a ${role} token: ${r.stderr}`);
  return t;
}

/** The first compliant and the first failing host (-1: none). */
function exampleHosts(fleet: Fleet, hosts: number): { good: number; bad: number } {
  let good = -1;
  let bad = -1;
  for (let i = 0; i < hosts && (good < 0 || bad < 0); i++) {
    const a = fleet.agent(i);
    if (a.facets.length === 0 && good < 0) good = i;
    if (a.facets.length > 0 && bad < 0) bad = i;
  }
  return { good, bad };
}

/** The curl command for an API path on the demo server with a bearer token. */
const curl = (s: DemoServer, p: string, t: string): string =>
  `curl --cacert ${s.caFile} -H 'Authorization: Bearer ${t}' '${s.url}${p}'`;

/** alice's request for prod-db from the device with `serial`. */
const verdictPath = (serial: string): string =>
  `/api/v1/verdict?serial=${encodeURIComponent(serial)}&resource=prod-db&user=alice%40example.com`;

interface Tokens {
  admin: string;
  gateway: string;
}

/** The lines about the failing example host: its verdict request and, once denied, its remediation page. */
async function failingHostLines(s: DemoServer, fleet: Fleet, bad: number, tokens: Tokens): Promise<string[]> {
  const a = fleet.agent(bad);
  const vurl = `${s.url}${verdictPath(a.serial)}`;
  let v = await getJson(vurl, s.caPem, tokens.gateway);
  // Its failing result may still be on its way: wait for the deny (and its remediation link).
  for (let tries = 0; tries < 60 && typeof field(v.json, 'remediation_page') !== 'string'; tries++) {
    await new Promise((r) => setTimeout(r, 500));
    v = await getJson(vurl, s.caPem, tokens.gateway);
  }
  const lines = [
    `A failing ${a.platform} laptop (${a.serial}: ${a.facets.join(', ')}):`,
    `  ${curl(s, verdictPath(a.serial), tokens.gateway)}`,
  ];
  const page = field(v.json, 'remediation_page');
  if (typeof page === 'string')
    lines.push(
      `  Its remediation page (what alice sees when denied; open it in a browser that trusts the dev CA):`,
      `  ${page}`,
    );
  lines.push('');
  return lines;
}

/** The tour printed once the fleet has reported: tokens, example requests, where to look. */
async function tour(s: DemoServer, fleet: Fleet, hosts: number, tokens: Tokens): Promise<string> {
  const { url, caFile } = s;
  const { good, bad } = exampleHosts(fleet, hosts);
  const lines: string[] = ['', '', `Trustgate is running at ${url} with ${hosts} simulated hosts.`, ''];
  lines.push(`  Dev CA (for curl and your browser):  ${caFile}`);
  lines.push(`  Admin token:    ${tokens.admin}`);
  lines.push(`  Gateway token:  ${tokens.gateway}`, '');
  if (good >= 0) {
    const a = fleet.agent(good);
    lines.push(
      `A healthy ${a.platform} laptop (${a.serial}, ${a.profile}):`,
      `  ${curl(s, verdictPath(a.serial), tokens.gateway)}`,
      '',
    );
  }
  if (bad >= 0) lines.push(...(await failingHostLines(s, fleet, bad, tokens)));
  lines.push('The failing hosts:', `  ${curl(s, '/api/v1/hosts?status=failing', tokens.admin)}`);
  lines.push(
    'One host with every check state:',
    `  ${curl(s, `/api/v1/hosts/${encodeURIComponent(fleet.agent(Math.max(bad, 0)).serial)}`, tokens.admin)}`,
  );
  lines.push('Metrics:', `  curl --cacert ${caFile} ${url}/metrics`);
  const dirs = `--data-dir ${path.join(s.root, 'data')} --packs-dir ${path.join(s.root, 'packs')}`;
  lines.push('The CLI on this server (from the checkout):', `  npx trustgate hosts ${dirs}`, '');
  lines.push(
    'Hosts drift over time (a firewall turned off, an OS updated). Ctrl-C stops the fleet and the server.',
    '',
  );
  return lines.join('\n');
}

/** Resolves on Ctrl-C, SIGTERM, the server's exit or the caller's abort signal. */
function untilStopped(server: ChildProcess, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    server.once('exit', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}

const HELP =
  'Usage: npm run demo -- [--hosts 300] [--time-scale 10] [--port 8443]\n' +
  'Starts a server on fresh data and a simulated fleet against it.';

export async function runDemo(argv: readonly string[], io: DemoIo = {}): Promise<number> {
  const out =
    io.print ??
    ((line: string): void => {
      process.stdout.write(`${line}\n`);
    });
  const progressOut =
    io.progress ??
    ((text: string): void => {
      process.stderr.write(text);
    });
  if (argv.includes('--help') || argv.includes('-h')) {
    out(HELP);
    return 0;
  }
  const hosts = Math.floor(flag(argv, 'hosts', 300));
  const timeScale = flag(argv, 'time-scale', 10);
  const s = await startServer(await pickPort(Math.floor(flag(argv, 'port', 8443))), out);
  if (!s) return 1;
  const tokens = { admin: createToken(s, 'admin'), gateway: createToken(s, 'gateway') };

  const transport = createHttpTransport({ url: s.url, caPem: s.caPem, maxSockets: 32 });
  const fleet = createFleet({
    hosts,
    transport,
    enrollSecret: s.secret,
    timeScale,
    rampSeconds: Math.min(10, hosts / 100),
    driftPerHour: 0.3,
    seed: 2026,
  });
  fleet.start();
  const every = Math.round(300 / timeScale);
  out(`Simulating ${hosts} osquery hosts (time runs ${timeScale}× faster: posture queries every ${every} s) …`);
  const progress = setInterval(() => progressOut(`\r${progressLine(fleet.stats())}   `), 1000);

  // Wait until the fleet's verdicts are complete (the checks queued at enrollment answered), then the tour.
  const ready = Date.now();
  const bundleUrl = `${s.url}/api/v1/verdicts/bundle`;
  while (
    completeSerials((await getJson(bundleUrl, s.caPem, tokens.gateway)).json).size < hosts * 0.9 &&
    Date.now() - ready < 90_000
  )
    await new Promise((r) => setTimeout(r, 500));
  progressOut(`\r${progressLine(fleet.stats())}   `);
  out(await tour(s, fleet, hosts, tokens));

  await untilStopped(s.process, io.signal);
  clearInterval(progress);
  progressOut('\nstopping …\n');
  await fleet.stop();
  transport.close();
  fleet.engine.close();
  const server = s.process;
  if (server.exitCode === null) {
    const exited = new Promise<void>((r) => server.once('exit', () => r()));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(s.root, { recursive: true, force: true });
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDemo(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
