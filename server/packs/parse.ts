/**
 * Parsing of pack text: osquery pack files (`{"queries": …}`) and full osquery config files (inline
 * `packs` and/or a `schedule`), with osquery's comment stripping, validated against the pack schema plus
 * Trustgate's `check` extension. Pure: no file system access (see load.ts).
 */
import { Environment } from '@marcbachmann/cel-js';
import type { CheckDef, Pack, PackQuery, Severity } from '../domain/types.js';
import { fileError, joinPointer, structureError, syntaxError, type PackLoadError } from './errors.js';
import { parseConfigText } from './json-text.js';
import { intersectPlatforms } from './platform.js';
import { KNOWN_QUERY_KEYS, MAX_QUERY_INTERVAL, describeAjvErrors, validatePackDoc } from './schema.js';

/** osquery's `--schedule_default_interval`: a query without an interval runs hourly. */
export const DEFAULT_INTERVAL_SECONDS = 3600;
export const DEFAULT_SEVERITY: Severity = 'medium';

export interface PackParseResult {
  packs: Pack[];
  checks: CheckDef[];
  /** Problems that refuse the file (or the pack they name): nothing from a file with errors is used. */
  errors: PackLoadError[];
  /** Things osquery would ignore (unknown keys, path-valued packs, non-string discovery entries, …). */
  warnings: PackLoadError[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON::valueToBool */
function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return ['true', 't'].includes(v.toLowerCase());
  if (typeof v === 'number') return v !== 0;
  return false;
}

const toInt = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** The CEL dialect of `check.pass`: `rows` is a list of string maps; `version_at_least` is the one helper. */
function createPassChecker(): (expr: string) => string | undefined {
  const env = new Environment()
    .registerVariable('rows', 'list<map<string, string>>')
    .registerFunction('version_at_least(string, string): bool', () => true);
  return (expr) => {
    let result: { valid: boolean; type?: string; error?: { message?: string } };
    try {
      result = env.check(expr) as typeof result;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    if (!result.valid) return `invalid CEL expression: ${result.error?.message ?? 'does not type-check'}`;
    if (result.type !== undefined && result.type !== 'bool' && result.type !== 'dyn') {
      return `the expression must evaluate to a bool, not ${result.type}`;
    }
    return undefined;
  };
}

let passChecker: ((expr: string) => string | undefined) | undefined;
const checkPassExpression = (expr: string): string | undefined => {
  passChecker ??= createPassChecker();
  return passChecker(expr);
};

interface Ctx {
  file: string;
  errors: PackLoadError[];
  warnings: PackLoadError[];
}

function nameProblem(kind: 'pack' | 'query', name: string): string | undefined {
  if (name === '') return `${kind} name must not be empty`;
  if (name.includes('/')) return `${kind} name "${name}" must not contain '/' (it is the pack delimiter)`;
  return undefined;
}

/** Validates and normalises one pack object found at `base` (a JSON pointer) in the file. */
function buildPack(name: string, raw: unknown, base: string, ctx: Ctx): Pack | undefined {
  const before = ctx.errors.length;
  const np = nameProblem('pack', name);
  if (np) ctx.errors.push(structureError(ctx.file, base, np));
  if (!validatePackDoc(raw)) {
    for (const p of describeAjvErrors(validatePackDoc.errors, base))
      ctx.errors.push(structureError(ctx.file, p.path, p.message));
  }
  if (!isRecord(raw) || ctx.errors.length > before) return undefined;

  const pack: Pack = { name, source: ctx.file, queries: {} };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'queries' || key === 'name' || key === 'source') continue;
    if (key === 'shard') pack.shard = toInt(value);
    else if (key === 'discovery' && Array.isArray(value)) {
      const strings = value.filter((d): d is string => typeof d === 'string');
      if (strings.length !== value.length) {
        ctx.warnings.push(
          structureError(
            ctx.file,
            joinPointer(base, 'discovery'),
            'non-string discovery entries are ignored (as osquery does)',
          ),
        );
      }
      pack.discovery = strings;
    } else pack[key] = value;
  }
  if ('name' in raw || 'source' in raw) {
    ctx.warnings.push(structureError(ctx.file, base, 'pack-level "name"/"source" keys are ignored'));
  }

  const queries = isRecord(raw.queries) ? raw.queries : {};
  if (!('queries' in raw)) ctx.warnings.push(structureError(ctx.file, base, 'the pack has no queries'));
  for (const [qname, qraw] of Object.entries(queries)) {
    const qpath = joinPointer(base, 'queries', qname);
    if (!isRecord(qraw)) continue; // already reported by the schema
    const qp = nameProblem('query', qname);
    if (qname === '' || (qp && qraw.check !== undefined)) {
      ctx.errors.push(
        structureError(
          ctx.file,
          qpath,
          qraw.check !== undefined ? `check id "${qname}" must not contain '/'` : (qp ?? 'invalid query name'),
        ),
      );
      continue;
    }
    if (qp) {
      // Third-party packs (osquery's ossec-rootkit) use '/' in query names. Pack names never hold '/', so
      // `pack/<pack>/<query>` still splits unambiguously at the first '/' after the pack name.
      ctx.warnings.push(
        structureError(ctx.file, qpath, `query name "${qname}" contains '/': allowed, but avoid it in your own packs`),
      );
    }
    const q: PackQuery = { query: String(qraw.query) };
    for (const [key, value] of Object.entries(qraw)) {
      if (key === 'query') continue;
      if (key === 'interval' || key === 'shard' || key === 'startup_priority') q[key] = toInt(value);
      else if (key === 'snapshot' || key === 'removed' || key === 'denylist' || key === 'blacklist')
        q[key] = toBool(value);
      else q[key] = value;
      if (!KNOWN_QUERY_KEYS.has(key)) {
        ctx.warnings.push(
          structureError(ctx.file, joinPointer(qpath, key), `unknown query key "${key}" (osquery ignores it)`),
        );
      }
    }
    if (q.interval !== undefined && (q.interval < 1 || q.interval > MAX_QUERY_INTERVAL)) {
      ctx.errors.push(
        structureError(
          ctx.file,
          joinPointer(qpath, 'interval'),
          `must be a whole number of seconds from 1 to ${MAX_QUERY_INTERVAL}`,
        ),
      );
    }
    if (q.shard !== undefined && q.shard > 100) {
      ctx.errors.push(structureError(ctx.file, joinPointer(qpath, 'shard'), 'must be a whole number from 0 to 100'));
    }
    if (q.check?.pass !== undefined) {
      const problem = checkPassExpression(q.check.pass);
      if (problem) ctx.errors.push(structureError(ctx.file, joinPointer(qpath, 'check', 'pass'), problem));
    }
    pack.queries[qname] = q;
  }
  if (pack.shard !== undefined && pack.shard > 100) {
    ctx.errors.push(structureError(ctx.file, joinPointer(base, 'shard'), 'must be a whole number from 0 to 100'));
  }
  return ctx.errors.length > before ? undefined : pack;
}

/** The posture checks of a pack (queries carrying a `check`). */
export function checksOfPack(pack: Pack): CheckDef[] {
  const out: CheckDef[] = [];
  for (const [id, q] of Object.entries(pack.queries)) {
    if (!q.check) continue;
    const def: CheckDef = {
      id,
      pack: pack.name,
      sql: q.query,
      intervalSeconds: q.interval ?? DEFAULT_INTERVAL_SECONDS,
      snapshot: q.snapshot ?? false,
      title: q.check.title,
      message: q.check.message,
      severity: q.check.severity ?? DEFAULT_SEVERITY,
    };
    const platform = intersectPlatforms(pack.platform, q.platform);
    if (platform !== undefined) def.platform = platform;
    if (q.check.remediation_url !== undefined) def.remediationUrl = q.check.remediation_url;
    if (q.check.pass !== undefined) def.pass = q.check.pass;
    out.push(def);
  }
  return out;
}

/**
 * Checks ids across packs: a check id (its query name) must be unique. Duplicates are errors naming
 * both files; the later pack's check is dropped.
 */
export function collectChecks(packs: Pack[]): { checks: CheckDef[]; errors: PackLoadError[] } {
  const byId = new Map<string, CheckDef & { source: string }>();
  const errors: PackLoadError[] = [];
  for (const pack of packs) {
    for (const def of checksOfPack(pack)) {
      const prior = byId.get(def.id);
      if (prior) {
        errors.push(
          structureError(
            pack.source,
            joinPointer('', 'queries', def.id, 'check'),
            `duplicate check id "${def.id}": already defined in pack "${prior.pack}" (${prior.source}); check ids must be unique across packs`,
          ),
        );
        continue;
      }
      byId.set(def.id, { ...def, source: pack.source });
    }
  }
  const checks = [...byId.values()].map(({ source: _source, ...def }) => def);
  return { checks, errors };
}

const CONFIG_KEYS_PASSED_OVER = [
  'options',
  'file_paths',
  'file_accesses',
  'exclude_paths',
  'decorators',
  'views',
  'yara',
  'events',
  'auto_table_construction',
];

/**
 * Parses pack text. `name` is the pack name for a plain pack file and for a config's `schedule`;
 * `source` names the file in messages. A full osquery config contributes its inline `packs` and its
 * `schedule` (as a pack named `name`); other config keys are reported as warnings and not used.
 */
export function parsePackText(name: string, text: string, source: string): PackParseResult {
  const ctx: Ctx = { file: source, errors: [], warnings: [] };
  const done = (packs: Pack[]): PackParseResult => {
    if (ctx.errors.length > 0) return { packs: [], checks: [], errors: ctx.errors, warnings: ctx.warnings };
    const { checks, errors } = collectChecks(packs);
    return { packs: errors.length ? [] : packs, checks: errors.length ? [] : checks, errors, warnings: ctx.warnings };
  };

  const parsed = parseConfigText(text);
  if (!parsed.ok) {
    ctx.errors.push(syntaxError(source, parsed.line, parsed.column, parsed.message));
    return done([]);
  }
  const doc = parsed.value;
  if (!isRecord(doc)) {
    ctx.errors.push(structureError(source, '', 'the document must be a JSON object (an osquery pack or config)'));
    return done([]);
  }

  if ('queries' in doc) {
    const pack = buildPack(name, doc, '', ctx);
    return done(pack ? [pack] : []);
  }

  const packs: Pack[] = [];
  const hasSchedule = 'schedule' in doc;
  const hasPacks = 'packs' in doc;
  if (hasSchedule) {
    if (!isRecord(doc.schedule)) {
      ctx.errors.push(structureError(source, '/schedule', 'must be an object of queries'));
    } else {
      const [e0, w0] = [ctx.errors.length, ctx.warnings.length];
      const pack = buildPack(name, { queries: doc.schedule }, '', ctx);
      // buildPack reports paths as /queries/<q>; a schedule's queries live under /schedule/<q>.
      const relocate = (e: PackLoadError): PackLoadError =>
        e.path?.startsWith('/queries/')
          ? structureError(source, `/schedule${e.path.slice('/queries'.length)}`, e.problem)
          : e;
      ctx.errors.splice(e0, ctx.errors.length - e0, ...ctx.errors.slice(e0).map(relocate));
      ctx.warnings.splice(w0, ctx.warnings.length - w0, ...ctx.warnings.slice(w0).map(relocate));
      if (pack) packs.push(pack);
    }
  }
  if (hasPacks) {
    if (!isRecord(doc.packs)) {
      ctx.errors.push(structureError(source, '/packs', 'must be an object mapping pack names to packs'));
    } else {
      for (const [pname, praw] of Object.entries(doc.packs)) {
        const base = joinPointer('', 'packs', pname);
        if (typeof praw === 'string') {
          ctx.warnings.push(
            structureError(
              source,
              base,
              `pack "${pname}" refers to "${praw}" (a path); osquery's TLS config plugin cannot load it, so it is skipped`,
            ),
          );
          continue;
        }
        if (!isRecord(praw)) {
          ctx.errors.push(structureError(source, base, 'a pack must be an object'));
          continue;
        }
        if (hasSchedule && pname === name) {
          ctx.errors.push(
            structureError(source, base, `pack "${pname}" has the same name as this file's schedule pack`),
          );
          continue;
        }
        const pack = buildPack(pname, praw, base, ctx);
        if (pack) packs.push(pack);
      }
    }
  }
  if (!hasSchedule && !hasPacks) {
    ctx.warnings.push(fileError(source, 'no "queries", "packs" or "schedule": nothing to load'));
  }
  const ignored = Object.keys(doc).filter((k) => CONFIG_KEYS_PASSED_OVER.includes(k));
  if (ignored.length > 0) {
    ctx.warnings.push(
      fileError(
        source,
        `config keys ${ignored.map((k) => `"${k}"`).join(', ')} are not served to agents (only packs are)`,
      ),
    );
  }
  return done(packs);
}
