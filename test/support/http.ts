/**
 * A tiny HTTPS client for tests: trusts the test server's CA, optional gzip bodies, raw bodies, and
 * optionally a client certificate (as osquery's --tls_client_cert/--tls_client_key) and new connections per
 * request (TLS sessions still resumed: each reply says whether its connection resumed one).
 */
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import zlib from 'node:zlib';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  /** The reply's TLS connection resumed an earlier session (`socket.isSessionReused()`). */
  sessionReused: boolean;
}

export interface ClientOptions {
  /** PEM client certificate and key presented on every connection. */
  cert?: string;
  key?: string;
  /** false: a new connection per request (sessions resumed from the agent's cache). Default true. */
  keepAlive?: boolean;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send exactly these bytes (no JSON encoding). */
  raw?: string | Buffer;
  gzip?: boolean;
  headers?: Record<string, string>;
  token?: string;
}

export function createClient(baseUrl: string, caPem: string, opts: ClientOptions = {}) {
  const agent = new https.Agent({
    ca: caPem,
    keepAlive: opts.keepAlive ?? true,
    maxSockets: 32,
    ...(opts.cert && opts.key ? { cert: opts.cert, key: opts.key } : {}),
  });
  async function request(path: string, opts: RequestOptions = {}): Promise<Reply> {
    let payload: Buffer | undefined =
      opts.raw !== undefined
        ? Buffer.from(opts.raw)
        : opts.body !== undefined
          ? Buffer.from(JSON.stringify(opts.body))
          : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (payload !== undefined) {
      headers['content-type'] ??= 'application/json';
      if (opts.gzip) {
        payload = zlib.gzipSync(payload, { level: 9 });
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(payload.length);
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const url = new URL(path, baseUrl);
    return new Promise<Reply>((resolve, reject) => {
      const req = https.request(
        url,
        { method: opts.method ?? (payload !== undefined ? 'POST' : 'GET'), headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          const sessionReused = (res.socket as TLSSocket).isSessionReused();
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, sessionReused });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
  return { request, close: () => agent.destroy(), agent };
}
export type Client = ReturnType<typeof createClient>;
