/**
 * The client certificate of a TLS connection, read once per connection (a WeakMap keyed by the socket, so
 * a request costs a map lookup): fingerprints, serial, validity, whether it chained to the device CA at the
 * handshake, and the device identity it names in the configured field. The certificate itself is checked
 * (`getPeerCertificate()` non-empty), never `socket.authorized` alone: with TLS 1.3 resumption that can be
 * true on a connection that carries no certificate. Renegotiation is disabled on a connection once read,
 * so the certificate a connection presented is the one it keeps.
 */
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import type { PresentedCert } from '../domain/types.js';

/** Which field of a device certificate names the device (its hardware serial). */
export type IdentityField = 'cn' | 'san-uri' | 'san-dns';

export interface IdentitySettings {
  field: IdentityField;
  /** `san-uri`: the URI is this prefix followed by the serial (percent-encoded). */
  uriPrefix: string;
}

/** Node's subjectaltname string → [type, value] (values with special characters are JSON-quoted by Node). */
export function sanEntries(san: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) return undefined;
    const type = san.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (san[j] === '"') {
      let k = j + 1;
      while (k < san.length && san[k] !== '"') k += san[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(san.slice(j, k + 1)) as string;
      } catch {
        return undefined;
      }
      j = k + 1;
    } else {
      const end = san.indexOf(', ', j);
      value = san.slice(j, end < 0 ? san.length : end);
      j = end < 0 ? san.length : end;
    }
    out.push([type, value]);
    if (san.startsWith(', ', j)) j += 2;
    else if (j < san.length) return undefined;
    i = j;
  }
  return out;
}

/** The one value of `field`, or null when absent or ambiguous (two CNs, two matching SANs). */
export function identityOf(
  cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'>,
  s: IdentitySettings,
): string | null {
  if (s.field === 'cn') {
    const cn: unknown = (cert.subject as Record<string, unknown> | undefined)?.CN;
    return typeof cn === 'string' && cn !== '' ? cn : null;
  }
  const entries = sanEntries(cert.subjectaltname ?? '');
  if (!entries) return null;
  let found: string[];
  if (s.field === 'san-dns') found = entries.filter(([t]) => t === 'DNS').map(([, v]) => v);
  else {
    found = [];
    for (const [t, v] of entries) {
      if (t !== 'URI' || !v.startsWith(s.uriPrefix)) continue;
      try {
        found.push(decodeURIComponent(v.slice(s.uriPrefix.length)));
      } catch {
        return null;
      }
    }
  }
  return found.length === 1 && found[0] ? found[0] : null;
}

const hexOf = (fingerprint: string): string => fingerprint.replace(/:/g, '').toLowerCase();

/** What a connection's certificate presents (null when it presented none). */
export function presentedCert(socket: TLSSocket, s: IdentitySettings): PresentedCert | null {
  const peer: DetailedPeerCertificate | PeerCertificate = socket.getPeerCertificate();
  if (!peer || !peer.raw || !peer.fingerprint256) return null;
  const notBefore = Date.parse(peer.valid_from);
  const notAfter = Date.parse(peer.valid_to);
  const authorizationError = socket.authorizationError;
  return {
    sha256: hexOf(peer.fingerprint256),
    sha1: hexOf(peer.fingerprint),
    serial: peer.serialNumber.toUpperCase(),
    notBefore: Number.isFinite(notBefore) ? notBefore : Infinity,
    notAfter: Number.isFinite(notAfter) ? notAfter : -Infinity,
    identity: identityOf(peer, s),
    authorized: socket.authorized === true,
    authorizationError: authorizationError ? String(authorizationError) : null,
  };
}

const isTls = (s: unknown): s is TLSSocket =>
  typeof s === 'object' && s !== null && typeof (s as Partial<TLSSocket>).getPeerCertificate === 'function';

/** `(req) → the connection's certificate`, read on the connection's first request and kept with it. */
export function createPeerCertReader(s: IdentitySettings): (req: IncomingMessage) => PresentedCert | null {
  const byConnection = new WeakMap<TLSSocket, PresentedCert | null>();
  return (req) => {
    const socket = req.socket;
    if (!isTls(socket)) return null;
    let cert = byConnection.get(socket);
    if (cert === undefined) {
      cert = presentedCert(socket, s);
      byConnection.set(socket, cert);
      // the certificate read here stays the connection's: no renegotiation to another one (TLS 1.2)
      socket.disableRenegotiation();
    }
    return cert;
  };
}
