/**
 * The forward-auth request (GET /api/v1/authz from nginx auth_request, Caddy forward_auth, Traefik
 * ForwardAuth): who and what it asks about, read from the proxy's headers (`X-Device-Serial`,
 * `X-Forwarded-User` or `X-Auth-Request-User`, `X-Trustgate-Resource` or the host mapped by the policy's
 * host rules), then the lookup and decide() (decide.ts turns the verdict into a status and headers).
 */
import type { IncomingMessage } from 'node:http';
import { decide, denyDecision, type ForwardAuthDecision } from './decide.js';
import type { Decisions } from './decisions.js';

/** Longest header value read (longer values are cut, as the query parameters are refused). */
export const MAX_PARAM = 256;

const header = (req: IncomingMessage, name: string): string => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.slice(0, MAX_PARAM) ?? '';
};

function hostOfUrl(u: string): string | undefined {
  try {
    return new URL(u).hostname;
  } catch {
    return undefined;
  }
}

export interface ForwardAuthDeps {
  /** Maps a request host (X-Forwarded-Host / X-Original-URL host) to a resource by policy host rules. */
  resourceForHost(host: string): string | undefined;
}

/** The forward-auth answer for a request (built once; per request: headers, one lookup, decide). */
export function createForwardAuth(
  deps: ForwardAuthDeps,
  { lookup, refused }: Decisions,
): (req: IncomingMessage) => ForwardAuthDecision {
  return (req) => {
    const serial = header(req, 'x-device-serial');
    const user = header(req, 'x-forwarded-user') || header(req, 'x-auth-request-user') || null;
    let resource = header(req, 'x-trustgate-resource');
    if (!resource) {
      const host =
        header(req, 'x-forwarded-host').split(',')[0]?.trim().replace(/:\d+$/, '') ||
        hostOfUrl(header(req, 'x-original-url')) ||
        '';
      resource = (host && deps.resourceForHost(host.toLowerCase())) || '';
    }
    if (serial && resource) return decide(lookup(serial, resource, user));
    const d = denyDecision(serial ? 'unknown_resource' : 'no_device_serial');
    refused(serial, resource, user, d);
    return d;
  };
}
