/**
 * osquery's tables as SQLite tables: the schema (from osquery's table specs, see README.md), an empty
 * database per platform shaped like osquery's, and SQL validation against it.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Platform } from '../domain/types.js';
import { registerOsqueryFunctions } from './functions.js';

/** An osquery platform a table can be registered on (the schema knows these three). */
export type TablePlatform = 'darwin' | 'linux' | 'windows';

export interface ColumnSpec {
  name: string;
  /** SQLite-facing type osquery declares: TEXT, INTEGER, BIGINT, UNSIGNED_BIGINT, DOUBLE, BLOB. */
  type: string;
  /** Not returned by `SELECT *` in osquery (must be named). */
  hidden?: boolean;
  /** Must be constrained in WHERE for the table to generate rows (e.g. file.path). */
  required?: boolean;
  /** Present only on these platforms (hidden elsewhere). */
  platforms?: TablePlatform[];
  collate?: string;
  /** Other names of this column (osquery serves them as hidden aliases). */
  aliases?: string[];
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  platforms: TablePlatform[];
  /** Other names of the table. */
  aliases?: string[];
  evented?: boolean;
}

const TABLE_PLATFORMS: readonly TablePlatform[] = ['darwin', 'linux', 'windows'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x): x is string => typeof x === 'string') ? v : undefined;
const platformList = (v: unknown): TablePlatform[] =>
  (stringList(v) ?? []).filter((p): p is TablePlatform => (TABLE_PLATFORMS as readonly string[]).includes(p));

function parseColumn(raw: unknown, table: string): ColumnSpec {
  if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.type !== 'string') {
    throw new Error(`schema.json: table ${table} has a malformed column`);
  }
  const col: ColumnSpec = { name: raw.name, type: raw.type };
  if (raw.hidden === true) col.hidden = true;
  if (raw.required === true) col.required = true;
  if (raw.platforms !== undefined) col.platforms = platformList(raw.platforms);
  if (typeof raw.collate === 'string') col.collate = raw.collate;
  const aliases = stringList(raw.aliases);
  if (aliases) col.aliases = aliases;
  return col;
}

function parseSchema(text: string): TableSpec[] {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc) || !Array.isArray(doc.tables)) throw new Error('schema.json: no "tables" array');
  return doc.tables.map((raw): TableSpec => {
    if (!isRecord(raw) || typeof raw.name !== 'string' || !Array.isArray(raw.columns)) {
      throw new Error('schema.json: malformed table');
    }
    const name = raw.name;
    const spec: TableSpec = {
      name,
      columns: raw.columns.map((c) => parseColumn(c, name)),
      platforms: platformList(raw.platforms),
    };
    const aliases = stringList(raw.aliases);
    if (aliases) spec.aliases = aliases;
    if (raw.evented === true) spec.evented = true;
    return spec;
  });
}

// The schema is immutable reference data: read once, lazily.
let allTables: readonly TableSpec[] | undefined;

/** Every osquery table of the schema (all platforms). */
export function allTableSpecs(): readonly TableSpec[] {
  allTables ??= parseSchema(readFileSync(new URL('./schema.json', import.meta.url), 'utf8'));
  return allTables;
}

/**
 * The tables osquery registers on a platform. FreeBSD and unknown platforms have none in this schema
 * (osquery 5.x ships no FreeBSD tables in its specs lists).
 */
export function tablesFor(platform: Platform): TableSpec[] {
  if (!(TABLE_PLATFORMS as readonly string[]).includes(platform)) return [];
  return allTableSpecs().filter((t) => t.platforms.includes(platform as TablePlatform));
}

const SQLITE_TYPES: Record<string, string> = {
  TEXT: 'TEXT',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  UNSIGNED_BIGINT: 'UNSIGNED BIGINT',
  DOUBLE: 'DOUBLE',
  BLOB: 'BLOB',
};

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The CREATE statements for one table (and its alias views). */
export function tableDdl(table: TableSpec): string[] {
  const seen = new Set<string>();
  const defs: string[] = [];
  for (const c of table.columns) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    const type = SQLITE_TYPES[c.type] ?? 'TEXT';
    // Only SQLite's built-in collations can be declared (better-sqlite3 cannot register others).
    const collate = c.collate === 'nocase' ? ' COLLATE NOCASE' : '';
    defs.push(`${quoteId(c.name)} ${type}${collate}`);
  }
  for (const c of table.columns) {
    for (const alias of c.aliases ?? []) {
      if (seen.has(alias)) continue;
      seen.add(alias);
      defs.push(`${quoteId(alias)} ${SQLITE_TYPES[c.type] ?? 'TEXT'} GENERATED ALWAYS AS (${quoteId(c.name)}) VIRTUAL`);
    }
  }
  const ddl = [`CREATE TABLE ${quoteId(table.name)} (${defs.join(', ')})`];
  for (const alias of table.aliases ?? []) {
    ddl.push(`CREATE VIEW ${quoteId(alias)} AS SELECT * FROM ${quoteId(table.name)}`);
  }
  return ddl;
}

/**
 * A database with one empty table per osquery table available on `platform`, typed from the schema,
 * with osquery's extra SQL functions registered. Pass `db` to add the tables to an existing database.
 */
export function createTablesDb(
  platform: Platform,
  db: Database.Database = new Database(':memory:'),
): Database.Database {
  registerOsqueryFunctions(db, platform);
  const tables = tablesFor(platform);
  const names = new Set(tables.map((t) => t.name));
  db.transaction(() => {
    for (const t of tables) {
      for (const stmt of tableDdl({ ...t, aliases: (t.aliases ?? []).filter((a) => !names.has(a)) })) db.exec(stmt);
    }
  })();
  return db;
}

const OSQUERY_COLLATION = /^(version|version_arch|version_dpkg|version_rhel)$/i;

/**
 * Removes `COLLATE version|version_arch|version_dpkg|version_rhel` clauses (osquery collations that
 * better-sqlite3 cannot register) outside string literals and quoted identifiers.
 */
export function stripOsqueryCollations(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] ?? '';
    if (ch === "'" || ch === '"' || ch === '`' || ch === '[') {
      const close = ch === '[' ? ']' : ch;
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    const m = /^collate\s+("?)([A-Za-z_]+)\1/i.exec(sql.slice(i));
    const before = sql[i - 1] ?? ' ';
    if (m && !/[A-Za-z0-9_]/.test(before) && OSQUERY_COLLATION.test(m[2] ?? '')) {
      i += m[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

const DQS_HINT = /^no such column: ("(?:[^"]|"")*") - should this be a string literal in single-quotes\?$/;

/** Replaces every `"token"` (outside single-quoted strings and comments) with the string literal 'token'. */
function doubleQuotedToString(sql: string, token: string): string {
  const inner = token.slice(1, -1).replaceAll('""', '"');
  const literal = `'${inner.replaceAll("'", "''")}'`;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] ?? '';
    if (ch === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (sql.startsWith(token, i)) {
      out += literal;
      i += token.length;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === '"' && sql[j + 1] !== '"')) j += sql[j] === '"' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/**
 * Prepares osquery SQL on a tables database the way osquery's SQLite would accept it: osquery
 * collations are stripped, and — as SQLite does when built with double-quoted string literals enabled,
 * which osquery's is and better-sqlite3's is not — a `"word"` that names no column is read as the
 * string 'word' (Fleet's queries rely on `user_uuid IS NOT ""`).
 */
export function prepareOsquerySql(db: Database.Database, sql: string): Database.Statement {
  let text = stripOsqueryCollations(sql);
  for (let attempt = 0; ; attempt++) {
    try {
      return db.prepare(text);
    } catch (e) {
      const m = e instanceof Error ? DQS_HINT.exec(e.message) : null;
      const token = m?.[1];
      if (!token || attempt >= 32) throw e;
      const next = doubleQuotedToString(text, token);
      if (next === text) throw e;
      text = next;
    }
  }
}

export type SqlValidation = { ok: true } | { ok: false; error: string };

export interface SqlValidator {
  validate(sql: string, platform: Platform): SqlValidation;
}

/** A validator that keeps one tables database per platform (created on first use). */
export function createSqlValidator(): SqlValidator {
  const dbs = new Map<Platform, Database.Database>();
  return {
    validate(sql, platform) {
      let db = dbs.get(platform);
      if (!db) {
        db = createTablesDb(platform);
        dbs.set(platform, db);
      }
      if (sql.trim() === '') return { ok: false, error: 'empty query' };
      try {
        const stmt = prepareOsquerySql(db, sql);
        if (!stmt.reader) return { ok: false, error: 'not a query that returns rows (osquery tables are read-only)' };
        return { ok: true };
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    },
  };
}

let defaultValidator: SqlValidator | undefined;

/**
 * Prepares `sql` against the platform's osquery tables: catches syntax errors, unknown tables, columns and
 * functions.
 */
export function validateSql(sql: string, platform: Platform): SqlValidation {
  defaultValidator ??= createSqlValidator();
  return defaultValidator.validate(sql, platform);
}
