/**
 * Device identity in the bench: the same start-up and check-in phases (phases.ts) against a second server
 * process in certificate mode, every simulated host on its own connection presenting its own device
 * certificate (a pool pregenerated with the server's device CA, as `trustgate device-cert issue
 * --serials-file` does), TLS handshakes with a client certificate, and an inventory import of 100,000 rows
 * (CSV parse and validation, then one transaction into a fresh SQLite store).
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { deviceCaPaths, openDeviceCa } from '../devices/ca.js';
import { parseInventory } from '../devices/inventory-file.js';
import { createFleet } from '../sim/fleet.js';
import { createHttpTransport, type Transport } from '../sim/transport.js';
import { createSqliteStore } from '../store/index.js';
import { tlsRate } from './clients.js';
import { VERDICT_FIXED_RATE, type Durations } from './figures.js';
import { runLoad } from './load.js';
import { pausableClock } from './loops.js';
import { checkIns, enrollment, settle, type Bench } from './phases.js';
import { startServerProcess } from './server-process.js';

/**
 * Hosts with their own certificate and connection, at most. Each is a TLS client with its own secure
 * context in this one bench process: at 10,000 the client side stalled mid-handshake (thousands of
 * connections left in CLOSE-WAIT, the server idle), so the rows measure 2,000 and say so.
 */
export const CERT_HOSTS_MAX = 2_000;
/** Rows of the inventory import. */
export const INVENTORY_ROWS = 100_000;

export interface DeviceIdentityFigures {
  certHosts: number;
  certEnrollPerSec: number;
  certCpuMsPerStart: number;
  certReadP50: number;
  certReadP99: number;
  certCpuMsPer1kReads: number;
  certTlsFullPerSec: number;
  certTlsResumedPerSec: number;
  /** GET /api/v1/authz with the certificate mapped by Trustgate (SHA-1 header), steady rate. */
  certAuthzP50: number;
  certAuthzP99: number;
  /** Answers that were not a posture decision (an unmapped certificate would be one): must be 0. */
  certAuthzUnmapped: number;
  inventoryImportSeconds: number;
}

/** Parses, validates and imports INVENTORY_ROWS rows into a fresh store; seconds. */
export async function inventoryImport(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-bench-inventory-'));
  const store = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
  try {
    const lines = ['Serial Number,Hardware UUID,Owner Email,Asset Tag'];
    for (let i = 0; i < INVENTORY_ROWS; i++) {
      lines.push(
        `C02${String(i).padStart(9, '0')},${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000,` +
          `user${i}@example.com,A-${i}`,
      );
    }
    const text = lines.join('\n');
    const t0 = performance.now();
    const rows = parseInventory(text, 'csv', 'bench.csv');
    await store.inventory.import(rows, { source: 'bench.csv', at: Date.now() });
    return (performance.now() - t0) / 1000;
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Forward auth as nginx sends it with certificate mapping on (`X-Client-Cert-Fingerprint`: SHA-1 of each
 * host's certificate, bound at enrollment; the SSO header), open loop at the fixed verdict rate. One
 * request first checks that the certificates map (an unmapped one would answer unknown_device_certificate).
 */
async function certAuthz(
  server: { url: string; caPem: string; gatewayToken: string },
  fingerprints: readonly string[],
  seconds: number,
): Promise<{ p50: number; p99: number; unmapped: number }> {
  const headerSets = fingerprints.map((fp) => ({
    'x-client-cert-fingerprint': fp,
    'x-auth-request-email': 'alice@example.com',
    'x-trustgate-resource': 'prod-db',
  }));
  const headers = { authorization: `Bearer ${server.gatewayToken}` };
  let unmapped = 0;
  for (const h of headerSets.slice(0, 50)) {
    const reasons = await authzReasons(server, { ...headers, ...h });
    if (reasons.includes('unknown_device_certificate')) unmapped++;
  }
  const load = { url: server.url, caPem: server.caPem, seconds, headers, paths: ['/api/v1/authz'], headerSets };
  // as before the plain verdict's steady-rate row: the bench process's own garbage first (it holds every
  // host's client and certificate, and just ran the handshake storms on the same cores as the server)
  await settle();
  const r = await runLoad({ ...load, kind: 'paced', rate: VERDICT_FIXED_RATE });
  return { p50: r.p50, p99: r.p99, unmapped };
}

/** X-Trustgate-Reasons of one forward-auth request. */
function authzReasons(server: { url: string; caPem: string }, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${server.url}/api/v1/authz`, { ca: server.caPem, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-trustgate-reasons'] ?? '')));
    });
    req.on('error', reject);
  });
}

/** Start-up, check-ins and handshakes with client certificates, on a certificate-mode server of its own. */
export async function clientCertificates(opts: {
  n: number;
  d: Durations;
  seed: number;
  log: (msg: string) => void;
  serverEnv?: Record<string, string>;
}): Promise<Omit<DeviceIdentityFigures, 'inventoryImportSeconds'>> {
  const m = Math.min(opts.n, CERT_HOSTS_MAX);
  const server = await startServerProcess({ env: { ...(opts.serverEnv ?? {}), TRUSTGATE_ENROLL_MODE: 'certificate' } });
  const clock = pausableClock();
  const transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 64 });
  const fleet = createFleet({
    hosts: m,
    transport,
    enrollSecret: server.enrollSecret,
    clock,
    seed: opts.seed,
    driftPerHour: 0,
    timeScale: 1,
  });
  const own: Transport[] = [];
  try {
    opts.log(`[${opts.n}] client certificates: issuing ${m}`);
    const ca = await openDeviceCa(deviceCaPaths(server.certsDir, undefined), { create: false, now: Date.now() });
    if (!ca) throw new Error('the certificate-mode server created no device CA');
    let sample: { cert: string; key: string } | undefined;
    const fingerprints: string[] = [];
    for (let i = 0; i < m; i++) {
      const c = await ca.issue(fleet.agent(i).serial, {
        days: 30,
        now: Date.now(),
        uriPrefix: 'urn:trustgate:device:',
      });
      const t = createHttpTransport({
        url: server.url,
        caPem: server.caPem,
        cert: c.certPem,
        key: c.keyPem,
        maxSockets: 2,
      });
      fleet.ownConnection(i, t);
      own.push(t);
      sample ??= { cert: c.certPem, key: c.keyPem };
      fingerprints.push(c.sha1);
    }
    const b: Bench = { n: m, d: opts.d, log: opts.log, server, clock, transport, fleet, ownTransports: own };
    const enroll = await enrollment(b);
    const reads = await checkIns(b);
    const client = sample ?? { cert: '', key: '' };
    const full = await tlsRate('127.0.0.1', server.port, server.caPem, opts.d.tls, false, client);
    const resumed = await tlsRate('127.0.0.1', server.port, server.caPem, opts.d.tls, true, client);
    const mapped = await certAuthz(server, fingerprints, opts.d.http);
    return {
      certAuthzP50: mapped.p50,
      certAuthzP99: mapped.p99,
      certAuthzUnmapped: mapped.unmapped,
      certHosts: m,
      certEnrollPerSec: enroll.enrollPerSec,
      certCpuMsPerStart: enroll.cpuPerStart,
      certReadP50: reads.readP50,
      certReadP99: reads.readP99,
      certCpuMsPer1kReads: reads.reads ? (reads.readCpu / reads.reads) * 1000 : Number.NaN,
      certTlsFullPerSec: full.perSec,
      certTlsResumedPerSec: resumed.perSec,
    };
  } finally {
    await fleet.stop();
    transport.close();
    for (const t of own) t.close();
    fleet.engine.close();
    await server.stop();
  }
}
