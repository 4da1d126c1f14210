/**
 * Runs real SQL for simulated hosts. One SQLite database per profile (tables shaped like osquery's,
 * from server/osquery-tables), filled from the profile. Results are cached per (profile, SQL, tick):
 * every host of a profile that runs a query in the same tick shares one result object.
 *
 * Tables whose rows differ per host (system_info, osquery_info, … : the profile stores tokens there)
 * are loaded with the host's own values before a query that reads them runs; such queries are run
 * per host (they are few and cheap) and not shared.
 */
import type Database from 'better-sqlite3';
import type { Row } from '../domain/types.js';
import { createTablesDb, stripOsqueryCollations, tablesFor } from '../osquery-tables/tables.js';
import type { HostIdentity } from './identity.js';
import { TOKEN_MARK, identityValue, type Profile, type TableRow } from './profiles.js';

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

interface ProfileDb {
  db: Database.Database;
  /** Tables of this profile holding per-host tokens. */
  perHostTables: string[];
  perHostRe: RegExp | null;
  /** Host (index and state key) whose values are loaded in the per-host tables ("": none). */
  loadedHost: string;
  columns: Map<string, Set<string>>;
  cache: Map<string, { tick: number; outcome: QueryOutcome }>;
  /** Interned outcomes by fingerprint, so unchanged results keep their identity across ticks. */
  interned: Map<string, QueryOutcome>;
  tick: number;
  /** Prepared statements by SQL text (a fleet runs the same few queries millions of times). */
  stmts: Map<string, Database.Statement>;
}

/** The prepared statement for `sql` on this profile's database (prepared once). */
function stmtOf(p: ProfileDb, sql: string): Database.Statement {
  let st = p.stmts.get(sql);
  if (!st) {
    if (p.stmts.size > 1000) p.stmts.clear();
    st = p.db.prepare(sql);
    p.stmts.set(sql, st);
  }
  return st;
}

const isToken = (v: unknown): v is string => typeof v === 'string' && v.charCodeAt(0) === 1 && v.startsWith(TOKEN_MARK);

/** osquery reports every value as a string: integers in decimal, NULL as "". */
export function toOsqueryString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/** Tables whose content moves with the clock (refreshed each tick). */
const VOLATILE = /\btime\b/i;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createQueryEngine(): QueryEngine {
  const dbs = new Map<number, ProfileDb>();
  let tick = 0;
  let runs = 0;
  let sharedHits = 0;
  let perHostRuns = 0;

  const insertRows = (p: ProfileDb, table: string, rows: readonly TableRow[], host: HostRef | null): void => {
    const id = host ? host.identity() : null;
    const cols = p.columns.get(table);
    if (!cols) return;
    for (const r of rows) {
      const names = Object.keys(r).filter((c) => cols.has(c));
      if (names.length === 0) continue;
      const values = names.map((c) => {
        const v = r[c];
        if (isToken(v)) return host && id ? (host.stateValue(v.slice(1)) ?? identityValue(id, v) ?? '') : '';
        return v ?? null;
      });
      stmtOf(
        p,
        `INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(',')}) VALUES (${names.map(() => '?').join(',')})`,
      ).run(...values);
    }
  };

  const open = (profile: Profile): ProfileDb => {
    let p = dbs.get(profile.id);
    if (p) return p;
    const db = createTablesDb(profile.platform);
    const columns = new Map<string, Set<string>>();
    for (const t of tablesFor(profile.platform)) columns.set(t.name, new Set(t.columns.map((c) => c.name)));
    const perHostTables = Object.entries(profile.tables)
      .filter(([, rows]) => rows.some((r) => Object.values(r).some(isToken)))
      .map(([name]) => name)
      .filter((name) => columns.has(name));
    p = {
      db,
      perHostTables,
      columns,
      cache: new Map(),
      interned: new Map(),
      tick: -1,
      loadedHost: '',
      stmts: new Map(),
      perHostRe: perHostTables.length ? new RegExp(`\\b(${perHostTables.map(escapeRe).join('|')})\\b`, 'i') : null,
    };
    const filled = p;
    db.transaction(() => {
      for (const [table, rows] of Object.entries(profile.tables)) {
        if (!perHostTables.includes(table)) insertRows(filled, table, rows, null);
      }
    })();
    dbs.set(profile.id, p);
    return p;
  };

  const refreshVolatile = (p: ProfileDb): void => {
    if (p.tick === tick) return;
    p.tick = tick;
    if (!p.columns.has('time')) return;
    // The tick is the simulated unix second.
    const now = new Date(tick * 1000);
    const unix = tick;
    stmtOf(p, 'DELETE FROM "time"').run();
    stmtOf(
      p,
      'INSERT INTO "time" (weekday, year, month, day, hour, minutes, seconds, timezone, local_timezone, unix_time, timestamp, datetime, iso_8601) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
    ).run(
      now.toLocaleString('en-US', { weekday: 'long', timeZone: 'UTC' }),
      now.getUTCFullYear(),
      now.getUTCMonth() + 1,
      now.getUTCDate(),
      now.getUTCHours(),
      now.getUTCMinutes(),
      now.getUTCSeconds(),
      'UTC',
      'UTC',
      unix,
      now.toUTCString(),
      now.toISOString().replace(/\.\d+Z$/, 'Z'),
      now.toISOString().replace(/\.\d+Z$/, 'Z'),
    );
  };

  const loadHost = (p: ProfileDb, profile: Profile, host: HostRef): void => {
    const key = `${host.index}|${host.stateKey()}`;
    if (p.loadedHost === key) return;
    p.db.transaction(() => {
      for (const t of p.perHostTables) {
        stmtOf(p, `DELETE FROM "${t}"`).run();
        insertRows(p, t, profile.tables[t] ?? [], host);
      }
    })();
    p.loadedHost = key;
  };

  const execute = (p: ProfileDb, sql: string): QueryOutcome => {
    try {
      const stmt = stmtOf(p, stripOsqueryCollations(sql));
      if (!stmt.reader) return { ok: false, rows: [], message: 'not a query that returns rows', fp: 'E:not a query' };
      const raw: unknown[] = stmt.raw(true).all();
      const cols = stmt.columns().map((c) => c.name);
      const rows: Row[] = [];
      for (const r of raw) {
        if (!Array.isArray(r)) continue;
        const row: Row = {};
        for (let i = 0; i < cols.length; i++) row[cols[i] ?? String(i)] = toOsqueryString(r[i]);
        rows.push(row);
      }
      return { ok: true, rows, message: '', fp: JSON.stringify(rows) };
    } catch (e) {
      // osquery reports SQLite's message as is, e.g. "no such table: foo".
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, rows: [], message, fp: `E:${message}` };
    }
  };

  const intern = (p: ProfileDb, o: QueryOutcome): QueryOutcome => {
    const known = p.interned.get(o.fp);
    if (known) return known;
    if (p.interned.size > 5000) p.interned.clear();
    p.interned.set(o.fp, o);
    return o;
  };

  return {
    run(profile, sql, host) {
      const p = open(profile);
      refreshVolatile(p);
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
