/**
 * Signed, short-lived remediation links (SPEC §6): `v1.<payload>.<hmac>`, base64url. The payload names
 * the serial, the user, the resource and the expiry; the HMAC (SHA-256, server key) covers all of it.
 */
import { constantTimeEqual, hmacSha256 } from '../shared/crypto.js';

export interface DeviceLinkSubject {
  serial: string;
  user: string;
  resource: string;
}

export interface DeviceLink extends DeviceLinkSubject {
  expiresAt: number;
}

export type LinkCheck =
  | { ok: true; link: DeviceLink }
  | { ok: false; reason: 'invalid' }
  /** Signature valid but past expiry: the subject is trustworthy enough to offer a way back. */
  | { ok: false; reason: 'expired'; link: DeviceLink };

/** How long a remediation link works, unless the caller chooses otherwise. */
export const DEVICE_LINK_TTL_MS = 30 * 60_000;

const VERSION = 'v1';
const sign = (key: string | Buffer, payload: string): string =>
  hmacSha256(key, `trustgate-device-link.${VERSION}.${payload}`).toString('base64url');

export function signDeviceLink(subject: DeviceLinkSubject, key: string | Buffer, expiresAt: number): string {
  const payload = Buffer.from(
    JSON.stringify({ s: subject.serial, u: subject.user, r: subject.resource, e: Math.floor(expiresAt) }),
    'utf8',
  ).toString('base64url');
  return `${VERSION}.${payload}.${sign(key, payload)}`;
}

export function verifyDeviceLink(token: unknown, key: string | Buffer, now: number): LinkCheck {
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'invalid' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, reason: 'invalid' };
  const [, payload = '', sig = ''] = parts;
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(sig)) return { ok: false, reason: 'invalid' };
  if (!constantTimeEqual(sig, sign(key, payload))) return { ok: false, reason: 'invalid' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, reason: 'invalid' };
  const p = parsed as Record<string, unknown>;
  if (typeof p.s !== 'string' || typeof p.u !== 'string' || typeof p.r !== 'string' || typeof p.e !== 'number')
    return { ok: false, reason: 'invalid' };
  const link: DeviceLink = { serial: p.s, user: p.u, resource: p.r, expiresAt: p.e };
  return now >= link.expiresAt ? { ok: false, reason: 'expired', link } : { ok: true, link };
}

/** The page URL for a token: `<publicUrl>/device?t=<token>`. */
export function deviceLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/device?t=${encodeURIComponent(token)}`;
}

/** Per-link CSRF token for the page's forms (bound to the link, so a forged form needs the link itself). */
export function csrfTokenFor(token: string, key: string | Buffer): string {
  return hmacSha256(key, `trustgate-csrf.${token}`).toString('base64url').slice(0, 32);
}
