/**
 * The bench's own clients and reference server: TLS handshakes per second (full or resumed), one HTTPS
 * request with a JSON answer, and a bare Node HTTPS server answering a constant (the baseline the
 * gateway is compared with), in its own process with the server's certificate.
 */
import { spawn } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { closedLoop } from './loops.js';
import { freePort } from './server-process.js';

/**
 * TLS handshakes per second against host:port, each a new connection (resuming one session if `resume`),
 * presenting a client certificate when `client` is given.
 */
export async function tlsRate(
  host: string,
  port: number,
  caPem: string,
  seconds: number,
  resume: boolean,
  client?: { cert: string; key: string },
): Promise<{ perSec: number; resumedShare: number }> {
  let session: Buffer | undefined;
  const identity = client ? { cert: client.cert, key: client.key } : {};
  if (resume) {
    session = await new Promise<Buffer | undefined>((resolve) => {
      const s = tls.connect({ host, port, ca: caPem, servername: 'localhost', ...identity });
      let got: Buffer | undefined;
      s.on('session', (b: Buffer) => {
        got = b;
        s.end();
      });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(undefined));
      setTimeout(() => s.destroy(), 2000).unref();
    });
  }
  let resumed = 0;
  const n = await closedLoop(
    1,
    16,
    seconds,
    () =>
      new Promise<void>((resolve) => {
        const s = tls.connect(
          { host, port, ca: caPem, servername: 'localhost', ...identity, ...(session ? { session } : {}) },
          () => {
            if (s.isSessionReused()) resumed++;
            s.destroy();
            resolve();
          },
        );
        s.on('error', () => resolve());
      }),
  );
  return { perSec: n / seconds, resumedShare: n ? resumed / n : 0 };
}

/** A bare Node HTTPS server answering a constant, in its own process, with the same certificate and allocator. */
export async function startBareServer(
  certsDir: string,
  allocatorEnv: Record<string, string>,
): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const key = JSON.stringify(path.join(certsDir, 'server.key'));
  const cert = JSON.stringify(path.join(certsDir, 'server.crt'));
  const script = `
    const https = require('node:https'); const fs = require('node:fs');
    const body = JSON.stringify({ decision: 'allow' });
    https.createServer({ key: fs.readFileSync(${key}), cert: fs.readFileSync(${cert}) },
      (req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); })
      .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  // on the server's allocator (jemalloc speeds bare Node too: a ratio across allocators would flatter)
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, ...allocatorEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`bare server exited ${c}`)));
  });
  return { url: `https://127.0.0.1:${port}`, pid: child.pid ?? 0, stop: () => child.kill('SIGTERM') };
}

export interface Reply {
  status: number;
  json: unknown;
  text: string;
}

/** One HTTPS request (JSON body if given, bearer token if given); never rejects (status 0 on error). */
export function request(
  url: string,
  caPem: string,
  method: string,
  token: string | null,
  body?: unknown,
): Promise<Reply> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    if (payload)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
    const req = https.request(url, { method, ca: caPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', () => resolve({ status: 0, json: null, text: '' }));
    req.end(payload);
  });
}

/** The `decision` of a verdict answer ("" if none). */
export const decisionOf = (j: unknown): string =>
  typeof j === 'object' && j !== null && 'decision' in j ? String((j as { decision: unknown }).decision) : '';
