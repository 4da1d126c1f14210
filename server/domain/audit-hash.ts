/**
 * The audit log's hash definition, shared by the store (which chains entries as it appends) and the
 * verifier (server/audit/chain.ts), over the canonical JSON of {seq, at, type, actor, serial, data, prev_hash}.
 * Pure. Two versions, told apart by the stored hash itself (no schema change, old rows stay verifiable):
 * - keyed (every entry written since issue #15): `hmac:` + HMAC-SHA256 hex under the audit key, which lives
 *   outside the database (data/audit.key or TRUSTGATE_AUDIT_KEY): whoever can write the database file but
 *   not read the key cannot re-chain an edit, renumber after a delete, or forge a tail;
 * - legacy (entries written before): plain SHA-256 hex. Verified as before, and only as a prefix of the
 *   log: an unkeyed entry after a keyed one is a downgrade and fails verification.
 */
import { hmacSha256, sha256Hex } from '../shared/crypto.js';
import type { AuditEntry } from './types.js';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit), no whitespace, `undefined` members dropped,
 * non-finite numbers as null (as JSON.stringify does). Stable across a JSON.parse round trip.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON());
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const v = obj[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}

export type HashedFields = Pick<AuditEntry, 'seq' | 'at' | 'type' | 'actor' | 'serial' | 'data' | 'prevHash'>;

/** The prefix of a keyed entry's hash. */
export const KEYED_PREFIX = 'hmac:';

export const isKeyedHash = (hash: string): boolean => hash.startsWith(KEYED_PREFIX);

/**
 * The hash of one entry over the canonical JSON of every field except `hash`: keyed (`hmac:` + HMAC-SHA256
 * hex) with a key, legacy SHA-256 hex without one.
 */
export function hashAuditEntry(e: HashedFields, key?: Buffer): string {
  const text = canonicalJson({
    seq: e.seq,
    at: e.at,
    type: e.type,
    actor: e.actor,
    serial: e.serial,
    data: e.data ?? null,
    prev_hash: e.prevHash,
  });
  return key ? `${KEYED_PREFIX}${hmacSha256(key, text).toString('hex')}` : sha256Hex(text);
}
