/**
 * How simulated agents talk to the server: POST JSON over HTTPS with one keep-alive agent and TLS
 * session reuse, as osquery's client does. The HTTP status is ignored (osquery reads only the body).
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
}

export function createHttpTransport(opts: HttpTransportOptions): Transport {
  const base = new URL(opts.url);
  const secure = base.protocol === 'https:';
  if (!secure && !(opts.allowHttp && base.protocol === 'http:')) {
    throw new Error(`Cannot create TLS request for non-HTTPS protocol URI: ${opts.url}`);
  }
  let maxSockets = opts.maxSockets ?? 64;
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 4096,
        maxFreeSockets: 4096,
        ca: opts.caPem,
        minVersion: 'TLSv1.2',
        maxCachedSessions: 1000,
      })
    : new http.Agent({ keepAlive: true, maxSockets: 4096, maxFreeSockets: 4096 });
  const timeoutMs = opts.timeoutMs ?? 16_000;
  const prefix = base.pathname.replace(/\/$/, '');
  let active = 0;
  // Our own queue (instead of the agent's) so waiting time is not counted as latency. A 100k-host
  // fleet queues thousands of requests: a head index keeps taking the next one O(1) (Array#shift is O(n)).
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
  const acquire = (): Promise<void> => {
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
  };
  const release = (): void => {
    active--;
    takeWaiting()?.();
  };
  const mod = secure ? https : http;

  const send = (path: string, body: unknown, o: PostOptions | undefined): Promise<PostResult> =>
    new Promise((resolve) => {
      const started = performance.now();
      let payload: Buffer = Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': opts.userAgent ?? 'osquery/5.23.1',
        ...(o?.headers ?? {}),
      };
      if (o?.gzip) {
        payload = gzipSync(payload, { level: 9 });
        headers['Content-Encoding'] = 'gzip';
      }
      headers['Content-Length'] = payload.length;
      const req = mod.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: prefix + path,
          method: 'POST',
          agent,
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
      req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
      req.on('error', (e) => resolve({ ok: false, error: e.message, status: 0, ms: performance.now() - started }));
      req.end(payload);
    });

  return {
    async post(path, body, o) {
      await acquire();
      try {
        return await send(path, body, o);
      } finally {
        release();
      }
    },
    inFlight: () => active + waitingCount(),
    setConcurrency(n) {
      maxSockets = Math.max(1, n);
      while (active < maxSockets && waitingCount() > 0) takeWaiting()?.();
    },
    close: () => agent.destroy(),
  };
}
