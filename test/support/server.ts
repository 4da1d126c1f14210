/**
 * Starts the real server for tests: HTTPS on an ephemeral port of 127.0.0.1, a fresh SQLite file and
 * generated dev CA in a temp dir, packs copied from the repository's packs/ (or a given dir). `stop()`
 * removes the temp dir (call it in an `after` hook).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../server/config/load.js';
import { startServer, type RunningServer } from '../../server/main.js';
import { createSqliteStore } from '../../server/store/index.js';
import { mintToken } from '../../server/control/credentials.js';
import { createLogger, type Logger } from '../../server/shared/log.js';
import type { Clock } from '../../server/shared/clock.js';
import { createClient, type Client } from './http.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REPO_PACKS = path.join(REPO_ROOT, 'packs');

export interface TestServer {
  url: string;
  caPem: string;
  enrollSecret: string;
  adminToken: string;
  gatewayToken: string;
  dataDir: string;
  packsDir: string;
  certsDir: string;
  config: Readonly<Config>;
  server: RunningServer;
  client: Client;
  stop(): Promise<void>;
  /** Stops and starts again on the same data dir and port (restart tests). */
  restart(): Promise<void>;
}

export interface TestServerOptions {
  packsDir?: string;
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse a data dir (restart scenarios). */
  dataDir?: string;
  certsDir?: string;
  logLevel?: string;
  /** The server's logger (to capture its lines); default a logger at `logLevel`. */
  log?: Logger;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-test-'));
  const dataDir = opts.dataDir ?? path.join(root, 'data');
  const certsDir = opts.certsDir ?? path.join(root, 'certs');
  const packsDir = path.join(root, 'packs');
  fs.cpSync(opts.packsDir ?? REPO_PACKS, packsDir, { recursive: true });
  const env = {
    TRUSTGATE_PORT: '0',
    TRUSTGATE_HOST: '127.0.0.1',
    TRUSTGATE_DATA_DIR: dataDir,
    TRUSTGATE_CERTS_DIR: certsDir,
    TRUSTGATE_PACKS_DIR: packsDir,
    TRUSTGATE_LOG_LEVEL: opts.logLevel ?? 'silent',
    TRUSTGATE_DURABLE_FSYNC: 'false',
    ...(opts.env ?? {}),
  };
  let config = loadConfig(env);
  const log = opts.log ?? createLogger(config.logLevel);
  let server = await startServer(config, { log, print: () => undefined, ...(opts.clock ? { clock: opts.clock } : {}) });
  config = loadConfig({
    ...env,
    TRUSTGATE_PORT: String(server.port),
    TRUSTGATE_PUBLIC_URL: `https://127.0.0.1:${server.port}`,
  });
  // restart once on the fixed port so the public URL (remediation links) matches
  await server.stop();
  server = await startServer(config, { log, print: () => undefined, ...(opts.clock ? { clock: opts.clock } : {}) });

  const caPem = fs.readFileSync(path.join(certsDir, 'ca.crt'), 'utf8');
  const enrollSecret = fs.readFileSync(path.join(dataDir, 'enroll_secret'), 'utf8').trim();
  const store = createSqliteStore(config.dbPath, { durableFsync: false });
  const admin = await mintToken(store.tokens, { name: 'test-admin', role: 'admin', at: Date.now() });
  const gateway = await mintToken(store.tokens, { name: 'test-gateway', role: 'gateway', at: Date.now() });
  await store.close();
  const client = createClient(`https://127.0.0.1:${server.port}`, caPem);

  const ts: TestServer = {
    url: `https://127.0.0.1:${server.port}`,
    caPem,
    enrollSecret,
    adminToken: admin.token,
    gatewayToken: gateway.token,
    dataDir,
    packsDir,
    certsDir,
    config,
    server,
    client,
    async stop() {
      ts.client.close();
      await ts.server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
    async restart() {
      await ts.server.stop();
      ts.client.close(); // its keep-alive sockets died with the server
      ts.server = await startServer(config, {
        log,
        print: () => undefined,
        ...(opts.clock ? { clock: opts.clock } : {}),
      });
      ts.client = createClient(ts.url, caPem);
    },
  };
  return ts;
}

/**
 * A packs dir for tests: the repository's packs plus packs scheduling the given queries (pack name → query
 * names), so their results are stored (results of queries Trustgate did not schedule are not). The caller
 * removes `dir` (or passes it to startTestServer, which copies it).
 */
export function packsScheduling(queries: Record<string, readonly string[]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-packs-'));
  fs.cpSync(REPO_PACKS, dir, { recursive: true });
  for (const [pack, names] of Object.entries(queries)) {
    const doc = { queries: Object.fromEntries(names.map((q) => [q, { query: 'SELECT 1;', interval: 86400 }])) };
    fs.writeFileSync(path.join(dir, `${pack}.json`), JSON.stringify(doc));
  }
  return dir;
}
