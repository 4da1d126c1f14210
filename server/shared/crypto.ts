/**
 * Secrets and their at-rest form: random node keys, tokens and ids, SHA-256 digests, constant-time
 * comparison and HMAC. Every stored secret goes through sha256Hex; every comparison through here.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256-bit random secret, URL-safe. Used for node keys, API tokens, enroll secrets. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const randomId = (bytes = 12): string => randomBytes(bytes).toString('hex');

/**
 * Hex SHA-256: the at-rest form of every secret (node keys, tokens, enroll secrets). One-shot `hash`
 * (Node 20.12+): a third of createHash's cost, and every osquery and gateway request hashes its secret.
 */
export const sha256Hex = (s: string | Buffer): string => hash('sha256', s, 'hex');
const sha256 = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Constant-time comparison of two strings via their digests (equal length by construction). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * Whether two strings are the same, in time that depends on their length only (no early exit at the first
 * difference); for a hot path where hashing both (constantTimeEqual) would cost more than the check saves.
 */
export function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time check of a presented secret against a stored SHA-256 hex digest. */
export function matchesHash(presented: string, storedHex: string): boolean {
  const got = sha256(presented);
  const want = Buffer.from(storedHex, 'hex');
  return want.length === got.length && timingSafeEqual(got, want);
}

export const hmacSha256 = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();
