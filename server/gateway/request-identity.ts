/**
 * Who and which device a forward-auth request is about, from the headers the gateway (nginx, Caddy) set:
 * - the person: only the SSO layer's header (`X-Auth-Request-Email` by default, TRUSTGATE_SSO_USER_HEADER),
 *   canonical (trimmed, lower-cased e-mail). Client-settable identity headers (`X-Forwarded-User`,
 *   `X-Auth-Request-User`) are never read.
 * - the device: the verified client certificate the gateway passes on (`X-Client-Cert-Fingerprint`: SHA-1
 *   as nginx's `$ssl_client_fingerprint` or SHA-256 as Caddy's; or `X-Client-Cert`: nginx's
 *   `$ssl_client_escaped_cert` URL-encoded PEM or Caddy's base64 DER), mapped to the device by the
 *   certificate index. A certificate nobody is mapped to is `unknown_device_certificate`. Without a
 *   certificate, `X-Device-Serial` (setups that map the certificate in the gateway). A certificate wins
 *   over a serial header that disagrees (the mismatch is reported to the caller to log).
 * Empty values and unfilled placeholders (`{http.request.tls.client.fingerprint}`) are absent.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { canonicalPerson, presentValue } from '../domain/identity.js';

/** Longest identity header value read (longer values are cut). */
export const MAX_PARAM = 256;
/** Longest certificate header read (a URL-encoded PEM of a device certificate is 1-3 KB). */
export const MAX_CERT_HEADER = 16_384;
/** Parsed certificate headers remembered (a connection sends the same one on every request). */
const CERT_CACHE_MAX = 4096;

export interface RequestIdentityDeps {
  /** The device serial of a certificate (fingerprint: SHA-1 or SHA-256, lower-case hex) now, or null. */
  serialOfCert(fingerprint: string): string | null;
  /** The SSO header naming the person (any case). */
  ssoUserHeader: string;
}

export type RequestDevice =
  | { kind: 'serial'; serial: string; via: 'certificate' | 'header'; headerSerial: string | null }
  | { kind: 'unknown_certificate'; fingerprint: string }
  | { kind: 'none' };

export interface RequestIdentity {
  device: RequestDevice;
  user: string | null;
}

export const headerValue = (req: IncomingMessage, name: string, max = MAX_PARAM): string => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.slice(0, max) ?? '';
};

const FINGERPRINT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A fingerprint as a proxy sends it (`AB:CD:…`, any case) → lower-case hex, or null when it is not one. */
export function fingerprintOf(raw: string): string | null {
  const v = raw.replace(/[:\s]/g, '').toLowerCase();
  return FINGERPRINT.test(v) ? v : null;
}

/**
 * The fingerprints of a certificate header (URL-encoded or plain PEM, or base64 DER): SHA-256 and SHA-1
 * (a certificate osquery reported is known by its SHA-1 only), or null if unparseable.
 */
export function certHeaderFingerprints(raw: string): string[] | null {
  try {
    let text = raw.trim();
    if (text.includes('%')) text = decodeURIComponent(text);
    const der = text.startsWith('-----BEGIN') ? text : Buffer.from(text.replace(/\s+/g, ''), 'base64');
    const x = new X509Certificate(der);
    const out = [fingerprintOf(x.fingerprint256), fingerprintOf(x.fingerprint)];
    return out.every((f) => f !== null) ? (out as string[]) : null;
  } catch {
    return null;
  }
}

export function createRequestIdentity(deps: RequestIdentityDeps): (req: IncomingMessage) => RequestIdentity {
  const ssoHeader = deps.ssoUserHeader.toLowerCase();
  const parsed = new Map<string, string[] | null>();

  /** The certificate's fingerprints; null: a certificate header that is not one; undefined: none sent. */
  function certFingerprints(req: IncomingMessage): string[] | null | undefined {
    const fp = presentValue(headerValue(req, 'x-client-cert-fingerprint'));
    if (fp !== null) {
      const one = fingerprintOf(fp);
      return one === null ? null : [one];
    }
    const cert = presentValue(headerValue(req, 'x-client-cert', MAX_CERT_HEADER));
    if (cert === null) return undefined;
    let hit = parsed.get(cert);
    if (hit === undefined) {
      hit = certHeaderFingerprints(cert);
      if (parsed.size >= CERT_CACHE_MAX) parsed.clear();
      parsed.set(cert, hit);
    }
    return hit;
  }

  return (req) => {
    const user = canonicalPerson(headerValue(req, ssoHeader));
    const headerSerial = presentValue(headerValue(req, 'x-device-serial'));
    const fps = certFingerprints(req);
    if (fps === undefined) {
      return {
        user,
        device:
          headerSerial === null
            ? { kind: 'none' }
            : { kind: 'serial', serial: headerSerial, via: 'header', headerSerial },
      };
    }
    let serial: string | null = null;
    for (const fp of fps ?? []) if (serial === null) serial = deps.serialOfCert(fp);
    if (serial === null) return { user, device: { kind: 'unknown_certificate', fingerprint: fps?.[0] ?? '' } };
    return { user, device: { kind: 'serial', serial, via: 'certificate', headerSerial } };
  };
}
