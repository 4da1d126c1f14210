/**
 * The listeners (issue #15 item 9): the HTTPS server every surface shares, and optionally a separate
 * plain-HTTP listener for `/metrics` on an internal address.
 *
 * TLS: 1.2 or 1.3, and in 1.2 only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305;
 * no RSA key exchange, no CBC, no SHA-1 MACs); osquery's and every current client's defaults include them.
 * Connections: a TCP connection must finish its TLS handshake within `handshakeTimeoutMs` (Node's default
 * of 120 s let idle sockets pile up), and at most `maxConnections` are open at once (the next are closed at
 * accept). Every HTTPS answer carries `Strict-Transport-Security` (not for `localhost`, which browsers would
 * pin for every other local development server; IP literals are ignored by browsers anyway).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { constantTimeEqual } from '../shared/crypto.js';
import type { Metrics } from '../shared/metrics.js';

/** TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are all of that kind. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface HttpsListenOptions {
  port: number;
  host: string;
  cert: Buffer;
  key: Buffer;
  /** Client-certificate options of the certificate enrollment modes. */
  clientCerts?: TlsOptions | undefined;
  handshakeTimeoutMs: number;
  maxConnections: number;
  /** `max-age` of Strict-Transport-Security; 0: not sent. */
  hstsMaxAge: number;
}

const isLocalhost = (host: string | undefined): boolean => {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost');
};

async function listening(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function listenHttps(
  opts: HttpsListenOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: https.Server; port: number }> {
  const hsts = `max-age=${opts.hstsMaxAge}`;
  // every request of a deployment names the same host: the answer for the last one is kept
  let lastHost: string | undefined;
  let lastLocal = false;
  const local = (host: string | undefined): boolean => {
    if (host !== lastHost) [lastHost, lastLocal] = [host, isLocalhost(host)];
    return lastLocal;
  };
  const tlsOptions: SecureContextOptions & TlsOptions = {
    cert: opts.cert,
    key: opts.key,
    // certificate modes: ask every client for a certificate, refuse none (people, gateways, admins have none)
    ...(opts.clientCerts ?? {}),
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    handshakeTimeout: opts.handshakeTimeoutMs,
  };
  const server = https.createServer(
    { ...tlsOptions, keepAliveTimeout: 75_000, headersTimeout: 20_000, requestTimeout: 60_000 },
    (req, res) => {
      if (opts.hstsMaxAge > 0 && !local(req.headers.host)) res.setHeader('Strict-Transport-Security', hsts);
      onRequest(req, res);
    },
  );
  server.maxHeadersCount = 100;
  server.maxConnections = opts.maxConnections;
  return { server, port: await listening(server, opts.port, opts.host) };
}

/** Whether a request may read /metrics: always without a token setting, else `Authorization: Bearer <token>`. */
export function metricsAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return m?.[1] !== undefined && constantTimeEqual(m[1], token);
}

/** The separate metrics listener (plain HTTP, for an internal address): GET /metrics and nothing else. */
export async function listenMetrics(
  where: { host: string; port: number },
  metrics: Metrics,
  token: string | undefined,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.statusCode = status;
      res.setHeader('Content-Type', type);
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    };
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      send(404, 'text/plain; charset=utf-8', 'not found: this listener serves GET /metrics only\n');
    } else if (!metricsAllowed(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      send(401, 'text/plain; charset=utf-8', 'send "Authorization: Bearer <TRUSTGATE_METRICS_TOKEN>"\n');
    } else {
      void metrics.registry.metrics().then(
        (text) => send(200, metrics.registry.contentType, text),
        () => send(500, 'text/plain; charset=utf-8', 'internal error\n'),
      );
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  return { server, port: await listening(server, where.port, where.host) };
}
