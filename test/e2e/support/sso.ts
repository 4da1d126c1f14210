/**
 * A stand-in for the SSO proxy in front of the gateway (oauth2-proxy with --set-xauthrequest): GET
 * /oauth2/auth answers 202 with X-Auth-Request-Email when the request's `_sso_session` cookie is a
 * session it issued, 401 otherwise. Sessions are random tokens made by `session(email)`; `session(null)`
 * is a valid session whose answer carries no e-mail (to test a proxy that forgot to set it).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SSO_COOKIE = '_sso_session';

export interface Sso {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A session for this person: the Cookie header value a signed-in browser sends. */
  session(email: string | null): string;
  /** Headers of every auth request it answered (what reached it). */
  seen: http.IncomingHttpHeaders[];
  stop(): Promise<void>;
}

export async function startSso(): Promise<Sso> {
  const sessions = new Map<string, string | null>();
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    if (!req.url?.startsWith('/oauth2/auth')) {
      res.writeHead(404).end();
      return;
    }
    seen.push(req.headers);
    const cookie = /(?:^|;\s*)_sso_session=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
    const email = cookie === undefined ? undefined : sessions.get(cookie);
    if (email === undefined) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(202, email === null ? {} : { 'X-Auth-Request-Email': email }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    session(email) {
      const token = randomBytes(16).toString('hex');
      sessions.set(token, email);
      return `${SSO_COOKIE}=${token}`;
    },
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
