/**
 * The audit log's tamper evidence: every entry carries the hash of the previous one, and its own hash is
 * an HMAC under the audit key (legacy entries from before keying: SHA-256) over the canonical JSON of its
 * fields (domain/audit-hash.ts). Pure functions, no I/O.
 *
 * The store (server/store/audit.ts) computes the same hash when it appends; a test holds both to the
 * same definition.
 */
import type { AuditEntry } from '../domain/types.js';

export { GENESIS_HASH, canonicalJson, hashAuditEntry, type HashedFields } from '../domain/audit-hash.js';
import { GENESIS_HASH, hashAuditEntry, isKeyedHash } from '../domain/audit-hash.js';

/** `legacy` (with a key): how many entries, all at the start, are from before keying (SHA-256 only). */
export type ChainResult = { ok: true; count: number; legacy?: number } | { ok: false; seq: number; problem: string };

/** A head recorded earlier (outside the database), to detect removal of entries at the end of the log. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

/** The text form of a head, as published and as `--anchor` / `?anchor=` take it: `<seq>:<hash>`. */
export const anchorText = (a: ChainAnchor): string => `${a.seq}:${a.hash}`;

/** Parses `<seq>:<hash>`; undefined when it is not one. */
export function parseAnchor(text: string): ChainAnchor | undefined {
  const m = /^(\d{1,15}):((?:hmac:)?[0-9a-f]{64})$/.exec(text.trim());
  return m?.[1] && m[2] ? { seq: Number(m[1]), hash: m[2] } : undefined;
}

/** The entry's own hash check: keyed entries need the key, unkeyed ones may only precede keyed ones. */
function entryProblem(e: AuditEntry, key: Buffer | undefined, sawKeyed: boolean): string | undefined {
  if (isKeyedHash(e.hash)) {
    if (!key) return `entry ${e.seq} is keyed and no audit key was given to verify it`;
    return hashAuditEntry(e, key) === e.hash
      ? undefined
      : `entry ${e.seq} was altered or forged (its HMAC does not match its content under the audit key)`;
  }
  if (sawKeyed) return `entry ${e.seq} is not keyed but follows keyed entries (written without the audit key)`;
  return hashAuditEntry(e) === e.hash ? undefined : `entry ${e.seq} was altered (its hash does not match its content)`;
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
export function verifyChain(entries: readonly AuditEntry[], anchor?: ChainAnchor, key?: Buffer): ChainResult {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let legacy = 0;
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
    const problem = entryProblem(e, key, legacy < e.seq - 1);
    if (problem) return { ok: false, seq: e.seq, problem };
    if (!isKeyedHash(e.hash)) legacy += 1;
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
  if (key && legacy > 0 && legacy === entries.length) {
    // the server appends a keyed `audit.keyed` entry whenever it starts on an unkeyed tail: a log with none
    // was rewritten (or cut back) to unkeyed entries, or written by something without the key
    return {
      ok: false,
      seq: legacy,
      problem: `the log ends with entry ${legacy}, which is not keyed (rewritten without the audit key?)`,
    };
  }
  return key ? { ok: true, count: entries.length, legacy } : { ok: true, count: entries.length };
}
