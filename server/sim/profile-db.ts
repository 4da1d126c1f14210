/**
 * One profile's SQLite database (tables shaped like osquery's, from server/osquery-tables): created and
 * filled from the profile once, its `time` table moved per tick, its per-host tables loaded with one
 * host's own values, and the SQL a host runs executed on it with osquery's string results. The query
 * engine (engine.ts) keeps one per profile and decides what is shared between hosts.
 */
import type Database from 'better-sqlite3';
import type { Row } from '../domain/types.js';
import { createTablesDb, stripOsqueryCollations, tablesFor } from '../osquery-tables/tables.js';
import type { HostRef, QueryOutcome } from './engine.js';
import { TOKEN_MARK, identityValue, type TableRow } from './host-tokens.js';
import type { Profile } from './profiles.js';

export interface ProfileDb {
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

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Inserts `rows` into `table` (columns the table lacks are left out); tokens get `host`'s values. */
function insertRows(p: ProfileDb, table: string, rows: readonly TableRow[], host: HostRef | null): void {
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
}

/** Creates the database of `profile` and fills every table that holds no per-host token. */
export function openProfileDb(profile: Profile): ProfileDb {
  const db = createTablesDb(profile.platform);
  const columns = new Map<string, Set<string>>();
  for (const t of tablesFor(profile.platform)) columns.set(t.name, new Set(t.columns.map((c) => c.name)));
  const perHostTables = Object.entries(profile.tables)
    .filter(([, rows]) => rows.some((r) => Object.values(r).some(isToken)))
    .map(([name]) => name)
    .filter((name) => columns.has(name));
  const p: ProfileDb = {
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
  db.transaction(() => {
    for (const [table, rows] of Object.entries(profile.tables)) {
      if (!perHostTables.includes(table)) insertRows(p, table, rows, null);
    }
  })();
  return p;
}

const INSERT_TIME =
  'INSERT INTO "time" (weekday, year, month, day, hour, minutes, seconds, timezone, local_timezone, unix_time,' +
  ' timestamp, datetime, iso_8601) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)';

/** Moves the `time` table to `tick` (the simulated unix second), once per tick. */
export function refreshVolatile(p: ProfileDb, tick: number): void {
  if (p.tick === tick) return;
  p.tick = tick;
  if (!p.columns.has('time')) return;
  const now = new Date(tick * 1000);
  const unix = tick;
  stmtOf(p, 'DELETE FROM "time"').run();
  stmtOf(p, INSERT_TIME).run(
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
}

/** Loads `host`'s own values into the per-host tables (unless they already hold them). */
export function loadHost(p: ProfileDb, profile: Profile, host: HostRef): void {
  const key = `${host.index}|${host.stateKey()}`;
  if (p.loadedHost === key) return;
  p.db.transaction(() => {
    for (const t of p.perHostTables) {
      stmtOf(p, `DELETE FROM "${t}"`).run();
      insertRows(p, t, profile.tables[t] ?? [], host);
    }
  })();
  p.loadedHost = key;
}

/** Runs `sql` as osquery would: every value a string, SQLite's own message on failure. */
export function execute(p: ProfileDb, sql: string): QueryOutcome {
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
}

/** The known outcome with the same fingerprint, or `o` (then known). */
export function intern(p: ProfileDb, o: QueryOutcome): QueryOutcome {
  const known = p.interned.get(o.fp);
  if (known) return known;
  if (p.interned.size > 5000) p.interned.clear();
  p.interned.set(o.fp, o);
  return o;
}
