/**
 * The forward-auth request (GET /api/v1/authz from nginx auth_request, Caddy forward_auth, Traefik
 * ForwardAuth): who and what it asks about, read from the proxy's headers (the device and the person:
 * request-identity.ts; `X-Trustgate-Resource` or the host mapped by the policy's host rules), then the
 * lookup and decide() (decide.ts turns the verdict into a status and headers).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../shared/log.js';
import { decide, denyDecision, type ForwardAuthDecision } from './decide.js';
import type { Decisions } from './decisions.js';
import {
  createRequestIdentity,
  headerValue as header,
  MAX_PARAM,
  type RequestIdentityDeps,
} from './request-identity.js';

export { MAX_PARAM };

function hostOfUrl(u: string): string | undefined {
  try {
    return new URL(u).hostname;
  } catch {
    return undefined;
  }
}

export interface ForwardAuthDeps extends RequestIdentityDeps {
  /** Maps a request host (X-Forwarded-Host / X-Original-URL host) to a resource by policy host rules. */
  resourceForHost(host: string): string | undefined;
}

/** The forward-auth answer for a request (built once; per request: headers, one lookup, decide). */
export function createForwardAuth(
  deps: ForwardAuthDeps,
  { lookup, refused }: Decisions,
  log: Logger,
): (req: IncomingMessage) => ForwardAuthDecision {
  const identity = createRequestIdentity(deps);
  return (req) => {
    const { device, user } = identity(req);
    let resource = header(req, 'x-trustgate-resource');
    if (!resource) {
      const host =
        header(req, 'x-forwarded-host').split(',')[0]?.trim().replace(/:\d+$/, '') ||
        hostOfUrl(header(req, 'x-original-url')) ||
        '';
      resource = (host && deps.resourceForHost(host.toLowerCase())) || '';
    }
    if (device.kind === 'unknown_certificate') {
      const d = denyDecision('unknown_device_certificate');
      refused('', resource, user, d);
      return d;
    }
    const serial = device.kind === 'serial' ? device.serial : '';
    if (device.kind === 'serial' && device.via === 'certificate' && device.headerSerial !== null) {
      if (device.headerSerial !== serial) {
        log.warn(
          { event: 'gateway.serial_mismatch', serial, header_serial: device.headerSerial.slice(0, 64), resource },
          'the certificate names another device than X-Device-Serial: the certificate wins',
        );
      }
    }
    if (serial && resource) return decide(lookup(serial, resource, user));
    const d = denyDecision(serial ? 'unknown_resource' : 'no_device_serial');
    refused(serial, resource, user, d);
    return d;
  };
}
