/**
 * Runs `trustgate serve` as a separate process for the bench, so its CPU and memory can be read from
 * /proc/<pid> apart from the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../control/credentials.js';
import { createSqliteStore } from '../store/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  pid: number;
  url: string;
  port: number;
  dataDir: string;
  certsDir: string;
  dbPath: string;
  caPem: string;
  enrollSecret: string;
  adminToken: string;
  gatewayToken: string;
  /** The allocator's environment the server runs with (serverAllocator), for a same-run baseline. */
  allocatorEnv: Record<string, string>;
  /** Milliseconds from spawn to /readyz answering 200. */
  readyMs: number;
  stop(): Promise<void>;
  /** Stops and starts again on the same data (cold start), with extra env; returns ms to ready. */
  restart(env?: Record<string, string>, nodeArgs?: readonly string[]): Promise<number>;
  stderrTail(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function get(url: string, caPem: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: caPem, rejectUnauthorized: caPem !== undefined, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Node flags the server runs with, as `npm start` gives them (package.json; a test keeps the two equal).
 * A heap cap: without one, V8 on a large machine lets old-space garbage reach well over 1 GB between
 * major collections under full load, though the live heap at 100k hosts is about 300 MB (README).
 */
export const SERVER_NODE_ARGS: readonly string[] = ['--max-old-space-size=768'];

/**
 * Where distributions install jemalloc's shared library (Debian and Ubuntu: package libjemalloc2), in the
 * order server/cli/start.sh (`npm start`) looks (a test keeps the two lists equal).
 */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

/** jemalloc's settings for the server (README, "Memory allocator"), as start.sh sets them. */
export const JEMALLOC_CONF = 'background_thread:true';

/**
 * The memory allocator the bench runs the server and the bare Node baseline with, chosen as `npm start`
 * chooses (server/cli/start.sh) from TRUSTGATE_MALLOC: `auto` (default: jemalloc when installed, else the
 * C library's), `jemalloc` (throws when not installed) or `system`; TRUSTGATE_JEMALLOC names the library
 * file. Both servers of a same-run ratio run on the one allocator: jemalloc speeds bare Node too.
 * Returns the environment it takes and a label for the bench's header.
 */
export function serverAllocator(
  choice = process.env.TRUSTGATE_MALLOC || 'auto',
  exists: (file: string) => boolean = fs.existsSync,
  file = process.env.TRUSTGATE_JEMALLOC,
): { env: Record<string, string>; label: string } {
  const system = { env: {}, label: 'the C library malloc' };
  if (choice === 'system') return system;
  if (choice !== 'auto' && choice !== 'jemalloc')
    throw new Error(`TRUSTGATE_MALLOC="${choice}": use auto, jemalloc or system`);
  const lib = [...(file ? [file] : []), ...JEMALLOC_PATHS].find((f) => exists(f));
  if (!lib && choice === 'auto') return system;
  if (!lib) throw new Error('TRUSTGATE_MALLOC=jemalloc: libjemalloc.so.2 not found (apt-get install -y libjemalloc2)');
  // purging freed pages from jemalloc's own thread, not inline in an allocation on the event loop
  return {
    env: { LD_PRELOAD: lib, MALLOC_CONF: JEMALLOC_CONF },
    label: `jemalloc (LD_PRELOAD=${lib}, MALLOC_CONF=${JEMALLOC_CONF})`,
  };
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a directory (must hold data/ and certs/). */
  root?: string;
  timeoutMs?: number;
  /** Extra arguments for node itself, after SERVER_NODE_ARGS (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: readonly string[];
}

/** `trustgate serve` settings as flags (they win over any TRUSTGATE_* in the environment). */
function serveArgs(port: number, dataDir: string, certsDir: string): string[] {
  return [
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--certs-dir',
    certsDir,
    '--packs-dir',
    path.join(REPO_ROOT, 'packs'),
    '--log-level',
    'warn',
    '--public-url',
    `https://127.0.0.1:${port}`,
  ];
}

/** An admin and a gateway token for the bench, written into the server's store. */
async function mintTokens(dbPath: string): Promise<{ admin: { token: string }; gateway: { token: string } }> {
  const store = createSqliteStore(dbPath, { durableFsync: false });
  const admin = await mintToken(store.tokens, { name: 'bench-admin', role: 'admin', at: Date.now() });
  const gateway = await mintToken(store.tokens, { name: 'bench-gateway', role: 'gateway', at: Date.now() });
  await store.close();
  return { admin, gateway };
}

export async function startServerProcess(opts: StartOptions = {}): Promise<ServerProcess> {
  const root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-bench-'));
  const dataDir = path.join(root, 'data');
  const certsDir = path.join(root, 'certs');
  const port = await freePort();
  const args = serveArgs(port, dataDir, certsDir);
  // `env` adds settings beyond the flags.
  const allocatorEnv = serverAllocator().env;
  const env: Record<string, string> = { ...allocatorEnv, ...(opts.env ?? {}) };
  const url = `https://127.0.0.1:${port}`;
  let child: ChildProcess;
  let tail = '';
  let nodeArgs = [...SERVER_NODE_ARGS, ...(opts.nodeArgs ?? [])];
  const launch = async (): Promise<number> => {
    const t0 = performance.now();
    child = spawn(process.execPath, [...nodeArgs, path.join(REPO_ROOT, 'server/cli/bin.js'), 'serve', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (c: Buffer) => {
      tail = (tail + c.toString('utf8')).slice(-4000);
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    const caFile = path.join(certsDir, 'ca.crt');
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${tail}`);
      const ca = fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : undefined;
      if (ca && (await get(`${url}/readyz`, ca)) === 200) return performance.now() - t0;
      if (Date.now() > deadline) throw new Error(`server not ready after ${opts.timeoutMs ?? 120_000} ms: ${tail}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await done;
    clearTimeout(timer);
  };
  const readyMs = await launch();
  const caPem = fs.readFileSync(path.join(certsDir, 'ca.crt'), 'utf8');
  const enrollSecret = fs.readFileSync(path.join(dataDir, 'enroll_secret'), 'utf8').trim();
  const dbPath = path.join(dataDir, 'trustgate.db');
  const { admin, gateway } = await mintTokens(dbPath);
  const sp: ServerProcess = {
    get pid() {
      return child.pid ?? 0;
    },
    url,
    port,
    dataDir,
    certsDir,
    dbPath,
    caPem,
    enrollSecret,
    adminToken: admin.token,
    gatewayToken: gateway.token,
    allocatorEnv,
    readyMs,
    async stop() {
      await stopChild();
      // a directory this function made is its own to remove (a given `root` is the caller's)
      if (!opts.root) fs.rmSync(root, { recursive: true, force: true });
    },
    async restart(extra, args) {
      await stopChild();
      Object.assign(env, extra ?? {});
      if (args) nodeArgs = [...SERVER_NODE_ARGS, ...args];
      return launch();
    },
    stderrTail: () => tail,
  };
  return sp;
}
