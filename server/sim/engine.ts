/**
 * Runs real SQL for simulated hosts. One SQLite database per profile (profile-db.ts: tables shaped like
 * osquery's, filled from the profile). Results are cached per (profile, SQL, tick):
 * every host of a profile that runs a query in the same tick shares one result object.
 *
 * Tables whose rows differ per host (system_info, osquery_info, … : the profile stores tokens there)
 * are loaded with the host's own values before a query that reads them runs; such queries are run
 * per host (they are few and cheap) and not shared.
 */
import type { Row } from '../domain/types.js';
import type { HostIdentity } from './identity.js';
import { execute, intern, loadHost, openProfileDb, refreshVolatile, type ProfileDb } from './profile-db.js';
import type { Profile } from './profiles.js';

/** One query result as a host reports it (values are strings, as osquery's Row is map<string,string>). */
export interface QueryOutcome {
  ok: boolean;
  rows: readonly Row[];
  /** "" on success, the SQLite error otherwise (e.g. "no such table: foo"). */
  message: string;
  /** Identity of the content: equal fingerprints mean equal results. */
  fp: string;
}

/** A host as the engine needs it: its index, and its identity on demand (computed only if needed). */
export interface HostRef {
  index: number;
  identity(): HostIdentity;
  /** Token values decided by the agent's state (config_hash, config_valid, osquery_version). */
  stateValue(token: string): string | undefined;
  /** Changes whenever a stateValue answer changes. */
  stateKey(): string;
}

export interface QueryEngine {
  /** Runs `sql` as host `host` on profile `profile` would. */
  run(profile: Profile, sql: string, host: HostRef): QueryOutcome;
  /** Moves to a new tick (a simulated second): shared results are recomputed after this. */
  setTick(tick: number): void;
  /** Rows of `table` for a host (host_details at enroll); empty if the platform lacks it. */
  tableRows(profile: Profile, table: string, host: HostRef): Row[];
  stats(): { runs: number; sharedHits: number; perHostRuns: number; databases: number };
  close(): void;
}

/** Tables whose content moves with the clock (refreshed each tick). */
const VOLATILE = /\btime\b/i;

export function createQueryEngine(): QueryEngine {
  const dbs = new Map<number, ProfileDb>();
  let tick = 0;
  let runs = 0;
  let sharedHits = 0;
  let perHostRuns = 0;

  const open = (profile: Profile): ProfileDb => {
    let p = dbs.get(profile.id);
    if (!p) {
      p = openProfileDb(profile);
      dbs.set(profile.id, p);
    }
    return p;
  };

  return {
    run(profile, sql, host) {
      const p = open(profile);
      refreshVolatile(p, tick);
      if (p.perHostRe?.test(sql)) {
        perHostRuns++;
        runs++;
        loadHost(p, profile, host);
        return execute(p, sql);
      }
      const hit = p.cache.get(sql);
      // A profile's tables never change, except the clock table: other results stay valid until then.
      if (hit && (hit.tick === tick || !VOLATILE.test(sql))) {
        sharedHits++;
        return hit.outcome;
      }
      runs++;
      const outcome = intern(p, execute(p, sql));
      if (p.cache.size > 2000) p.cache.clear();
      p.cache.set(sql, { tick, outcome });
      return outcome;
    },
    setTick(t) {
      tick = t;
    },
    tableRows(profile, table, host) {
      const p = open(profile);
      if (!p.columns.has(table)) return [];
      if (p.perHostTables.includes(table)) loadHost(p, profile, host);
      const o = execute(p, `SELECT * FROM "${table}"`);
      return o.rows.map((r) => ({ ...r }));
    },
    stats: () => ({ runs, sharedHits, perHostRuns, databases: dbs.size }),
    close() {
      for (const p of dbs.values()) p.db.close();
      dbs.clear();
    },
  };
}

/** Rows added and removed between two results of a differential query (multiset by row content). */
export interface RowDiff {
  added: Row[];
  removed: Row[];
}

const diffCache = new WeakMap<QueryOutcome, WeakMap<QueryOutcome, RowDiff>>();

export function diffOutcomes(prev: QueryOutcome | null, cur: QueryOutcome): RowDiff {
  if (!prev) return { added: [...cur.rows], removed: [] };
  if (prev === cur || prev.fp === cur.fp) return { added: [], removed: [] };
  const cached = diffCache.get(prev)?.get(cur);
  if (cached) return cached;
  const before = new Map<string, number>();
  for (const r of prev.rows) {
    const k = JSON.stringify(r);
    before.set(k, (before.get(k) ?? 0) + 1);
  }
  const added: Row[] = [];
  for (const r of cur.rows) {
    const k = JSON.stringify(r);
    const n = before.get(k) ?? 0;
    if (n > 0) before.set(k, n - 1);
    else added.push(r);
  }
  const removed: Row[] = [];
  const left = new Map(before);
  for (const r of prev.rows) {
    const k = JSON.stringify(r);
    const n = left.get(k) ?? 0;
    if (n > 0) {
      removed.push(r);
      left.set(k, n - 1);
    }
  }
  const d = { added, removed };
  let inner = diffCache.get(prev);
  if (!inner) {
    inner = new WeakMap();
    diffCache.set(prev, inner);
  }
  inner.set(cur, d);
  return d;
}
