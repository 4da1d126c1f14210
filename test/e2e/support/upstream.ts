/** The protected application of the e2e tests: a Node http server on 127.0.0.1 answering "upstream ok". */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Upstream {
  port: number;
  /** host:port, for proxy configs. */
  address: string;
  /** Requests that reached the application, oldest first. */
  requests: SeenRequest[];
  stop(): Promise<void>;
}

export const UPSTREAM_BODY = 'upstream ok';

export async function startUpstream(): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(UPSTREAM_BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
