/**
 * The one canonical form of the identities a request carries, shared by the gateway, break glass, the
 * audit log and (later) the console.
 * - A person is their SSO e-mail address, trimmed and lower-cased (`Alice@Example.com` and
 *   `alice@example.com` are one person). Anything that is not a plausible address is no person at all.
 * - A header value the proxy could not fill is absent: empty, or a placeholder a proxy sent as literal
 *   text (Caddy 2.6 sends `{http.request.tls.client.fingerprint}` when there is no client certificate).
 */

/** The longest identity accepted from a header (RFC 5321 caps a path at 256 octets). */
export const MAX_IDENTITY_LENGTH = 256;

const PLACEHOLDER = /^\{[^{}]*\}$|^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/;

/** A header value as sent by a proxy, or null when it is missing, empty or an unfilled placeholder. */
export function presentValue(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const v = raw.trim();
  if (v === '' || v === '-' || PLACEHOLDER.test(v)) return null;
  return v;
}

const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+$/;

/** The canonical person (lower-cased e-mail address), or null when the value names nobody. */
export function canonicalPerson(raw: string | null | undefined): string | null {
  const v = presentValue(raw);
  if (v === null || v.length > MAX_IDENTITY_LENGTH || !EMAIL.test(v)) return null;
  return v.toLowerCase();
}
