/**
 * The audit log's tamper evidence: every entry carries the hash of the previous one, and its own hash is
 * SHA-256 over the canonical JSON of its fields. Pure functions, no I/O.
 *
 * The store (server/store/audit.ts) computes the same hash when it appends; a test holds both to the
 * same definition.
 */
import type { AuditEntry } from '../domain/types.js';

export { GENESIS_HASH, canonicalJson, hashAuditEntry, type HashedFields } from '../domain/audit-hash.js';
import { GENESIS_HASH, hashAuditEntry } from '../domain/audit-hash.js';

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
        ? {
            ok: false,
            seq: expectedSeq,
            problem: `entry ${expectedSeq} is missing (removed); the next entry is ${e.seq}`,
          }
        : { ok: false, seq: e.seq, problem: `entry ${e.seq} is out of order or duplicated (expected ${expectedSeq})` };
    }
    if (e.prevHash !== prevHash) {
      return {
        ok: false,
        seq: e.seq,
        problem:
          `entry ${e.seq} does not chain to entry ${e.seq - 1} ` +
          '(prev_hash mismatch: an earlier entry was altered or replaced)',
      };
    }
    if (hashAuditEntry(e) !== e.hash) {
      return { ok: false, seq: e.seq, problem: `entry ${e.seq} was altered (its hash does not match its content)` };
    }
    if (anchor && e.seq === anchor.seq && e.hash !== anchor.hash) {
      return {
        ok: false,
        seq: e.seq,
        problem: `entry ${e.seq} differs from the recorded head (the log was rewritten from here)`,
      };
    }
    prevHash = e.hash;
    expectedSeq += 1;
  }
  if (anchor && anchor.seq >= expectedSeq) {
    return {
      ok: false,
      seq: expectedSeq,
      problem: `entries ${expectedSeq}..${anchor.seq} are missing: the log ends before the recorded head (truncated)`,
    };
  }
  return { ok: true, count: entries.length };
}
