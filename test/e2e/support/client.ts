/** Requests to a gateway under test, as a browser or API client would send them (no redirects followed). */
import http from 'node:http';
import https from 'node:https';

export interface GatewayReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface GatewayRequest {
  port: number;
  /** The site name (Host header, and SNI over TLS). */
  host: string;
  path?: string;
  headers?: Record<string, string>;
  /** Over TLS: the CA that signed the site certificate, and optionally a client certificate. */
  tls?: { ca: string; cert?: string; key?: string; servername?: string };
}

export function gatewayRequest(r: GatewayRequest): Promise<GatewayReply> {
  const opts: https.RequestOptions = {
    host: '127.0.0.1',
    port: r.port,
    path: r.path ?? '/',
    method: 'GET',
    agent: false,
    headers: { host: r.host, accept: 'text/html,application/json', ...(r.headers ?? {}) },
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    };
    const req = r.tls
      ? https.request(
          {
            ...opts,
            servername: r.tls.servername ?? r.host,
            ca: r.tls.ca,
            ...(r.tls.cert ? { cert: r.tls.cert, key: r.tls.key } : {}),
          },
          onResponse,
        )
      : http.request(opts, onResponse);
    req.on('error', reject);
    req.end();
  });
}
