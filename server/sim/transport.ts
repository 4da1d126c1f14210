/**
 * How simulated agents talk to the server: POST JSON over HTTPS with one keep-alive agent and TLS
 * session reuse, as osquery's client does. The HTTP status is ignored (osquery reads only the body).
 * A transport may present a client certificate (osqueryd's --tls_client_cert / --tls_client_key): one
 * transport per simulated host then, each host on its own TLS identity.
 */
import https from 'node:https';
import http from 'node:http';
import { gzipSync } from 'node:zlib';

export type PostResult =
  | { ok: true; status: number; json: unknown; text: string; ms: number }
  | { ok: false; error: string; status: number; ms: number };

export interface PostOptions {
  headers?: Record<string, string>;
  gzip?: boolean;
}

export interface Transport {
  post(path: string, body: unknown, opts?: PostOptions): Promise<PostResult>;
  /** Requests waiting for a connection slot plus those in flight. */
  inFlight(): number;
  /** Changes how many requests may be in flight at once. */
  setConcurrency?(n: number): void;
  close(): void;
}

export interface HttpTransportOptions {
  /** https://host:port (http:// is accepted only with allowHttp, for local fakes). */
  url: string;
  caPem?: string;
  /** Concurrent requests (sockets). */
  maxSockets?: number;
  /** Per-request timeout; osquery uses 16 s. */
  timeoutMs?: number;
  userAgent?: string;
  allowHttp?: boolean;
  /** PEM client certificate and key presented on every connection. */
  cert?: string;
  key?: string;
}

/** Requests allowed at once, and the ones waiting for a slot. */
interface Limiter {
  acquire(): Promise<void>;
  release(): void;
  /** Requests waiting for a slot plus those in flight. */
  count(): number;
  setMax(n: number): void;
}

/**
 * At most `max` requests at once. Our own queue (instead of the agent's) so waiting time is not
 * counted as latency. A 100k-host fleet queues thousands of requests: a head index keeps taking the
 * next one O(1) (Array#shift is O(n)).
 */
function createLimiter(max: number): Limiter {
  let maxSockets = max;
  let active = 0;
  let waiting: Array<() => void> = [];
  let head = 0;
  const waitingCount = (): number => waiting.length - head;
  const takeWaiting = (): (() => void) | undefined => {
    if (head >= waiting.length) return undefined;
    const next = waiting[head++];
    if (head > 1024 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
    return next;
  };
  return {
    acquire() {
      if (active < maxSockets) {
        active++;
        return Promise.resolve();
      }
      return new Promise((resolve) =>
        waiting.push(() => {
          active++;
          resolve();
        }),
      );
    },
    release() {
      active--;
      takeWaiting()?.();
    },
    count: () => active + waitingCount(),
    setMax(n) {
      maxSockets = Math.max(1, n);
      while (active < maxSockets && waitingCount() > 0) takeWaiting()?.();
    },
  };
}

/** Where and how requests go (fixed per transport). */
interface Target {
  mod: typeof https | typeof http;
  agent: https.Agent | http.Agent;
  base: URL;
  prefix: string;
  timeoutMs: number;
  userAgent: string | undefined;
}

/** One POST; resolves (never rejects) with the parsed body or why there is none. */
function send(t: Target, path: string, body: unknown, o: PostOptions | undefined): Promise<PostResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let payload: Buffer = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': t.userAgent ?? 'osquery/5.23.1',
      ...(o?.headers ?? {}),
    };
    if (o?.gzip) {
      payload = gzipSync(payload, { level: 9 });
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = payload.length;
    const { base } = t;
    const req = t.mod.request(
      {
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        path: t.prefix + path,
        method: 'POST',
        agent: t.agent,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          // An empty body is treated as {} by osquery.
          if (text.trim() === '') return resolve({ ok: true, status, json: {}, text, ms });
          try {
            const json: unknown = JSON.parse(text);
            resolve({ ok: true, status, json, text, ms });
          } catch {
            resolve({ ok: false, error: 'malformed JSON response', status, ms });
          }
        });
        res.on('error', (e) =>
          resolve({ ok: false, error: e.message, status: res.statusCode ?? 0, ms: performance.now() - started }),
        );
      },
    );
    req.setTimeout(t.timeoutMs, () => req.destroy(new Error('request timed out')));
    req.on('error', (e) => resolve({ ok: false, error: e.message, status: 0, ms: performance.now() - started }));
    req.end(payload);
  });
}

export function createHttpTransport(opts: HttpTransportOptions): Transport {
  const base = new URL(opts.url);
  const secure = base.protocol === 'https:';
  if (!secure && !(opts.allowHttp && base.protocol === 'http:')) {
    throw new Error(`Cannot create TLS request for non-HTTPS protocol URI: ${opts.url}`);
  }
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 4096,
        maxFreeSockets: 4096,
        ca: opts.caPem,
        minVersion: 'TLSv1.2',
        maxCachedSessions: 1000,
        ...(opts.cert && opts.key ? { cert: opts.cert, key: opts.key } : {}),
      })
    : new http.Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 4096 });
  const target: Target = {
    mod: secure ? https : http,
    agent,
    base,
    prefix: base.pathname.replace(/\/$/, ''),
    timeoutMs: opts.timeoutMs ?? 16_000,
    userAgent: opts.userAgent,
  };
  const limiter = createLimiter(opts.maxSockets ?? 64);
  return {
    async post(path, body, o) {
      await limiter.acquire();
      try {
        return await send(target, path, body, o);
      } finally {
        limiter.release();
      }
    },
    inFlight: () => limiter.count(),
    setConcurrency: (n) => limiter.setMax(n),
    close: () => agent.destroy(),
  };
}
