/**
 * The audit log's tamper evidence: every entry carries the hash of the previous one, and its own hash is
 * SHA-256 over the canonical JSON of its fields. Pure functions, no I/O.
 *
 * The store (server/store/audit.ts) computes the same hash when it appends; a test holds both to the
 * same definition.
 */
import { sha256Hex } from '../shared/crypto.js';
import type { AuditEntry } from '../domain/types.js';

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
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
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

/** The hash of one entry: SHA-256 hex over the canonical JSON of every field except `hash`. */
export function hashAuditEntry(e: HashedFields): string {
  return sha256Hex(canonicalJson({
    seq: e.seq, at: e.at, type: e.type, actor: e.actor, serial: e.serial, data: e.data ?? null, prev_hash: e.prevHash,
  }));
}

export type ChainResult = { ok: true; count: number } | { ok: false; seq: number; problem: string };

/** A head recorded earlier (outside the database), to detect removal of entries at the end of the log. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

/** The last entry's seq and hash: record it somewhere else to make truncation of the tail detectable. */
export function chainHead(entries: readonly AuditEntry[]): ChainAnchor | null {
  const last = entries[entries.length - 1];
  return last ? { seq: last.seq, hash: last.hash } : null;
}

/**
 * Verifies a whole chain, in order. Names the first bad entry: an altered entry (its hash no longer
 * matches its fields), a removed one (a gap in `seq`, or a prev_hash that does not match), or a reorder.
 * An empty log verifies with count 0. Removing entries from the end leaves a valid shorter chain; pass an
 * `anchor` recorded earlier to detect that too.
 */
export function verifyChain(entries: readonly AuditEntry[], anchor?: ChainAnchor): ChainResult {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq) {
      return e.seq > expectedSeq
        ? { ok: false, seq: expectedSeq, problem: `entry ${expectedSeq} is missing (removed); the next entry is ${e.seq}` }
        : { ok: false, seq: e.seq, problem: `entry ${e.seq} is out of order or duplicated (expected ${expectedSeq})` };
    }
    if (e.prevHash !== prevHash) {
      return { ok: false, seq: e.seq, problem: `entry ${e.seq} does not chain to entry ${e.seq - 1} (prev_hash mismatch: an earlier entry was altered or replaced)` };
    }
    if (hashAuditEntry(e) !== e.hash) {
      return { ok: false, seq: e.seq, problem: `entry ${e.seq} was altered (its hash does not match its content)` };
    }
    if (anchor && e.seq === anchor.seq && e.hash !== anchor.hash) {
      return { ok: false, seq: e.seq, problem: `entry ${e.seq} differs from the recorded head (the log was rewritten from here)` };
    }
    prevHash = e.hash;
    expectedSeq += 1;
  }
  if (anchor && anchor.seq >= expectedSeq) {
    return { ok: false, seq: expectedSeq, problem: `entries ${expectedSeq}..${anchor.seq} are missing: the log ends before the recorded head (truncated)` };
  }
  return { ok: true, count: entries.length };
}
