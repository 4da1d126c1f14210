/**
 * One pack object, validated and normalised: the pack schema (schema.ts), pack and query names, the
 * values osquery coerces (integers, booleans), Trustgate's `check` extension with its CEL `pass`
 * expression type-checked. Problems go to the caller's error and warning lists; pure.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { Pack, PackQuery } from '../domain/types.js';
import { joinPointer, structureError, type PackLoadError } from './errors.js';
import { KNOWN_QUERY_KEYS, MAX_QUERY_INTERVAL, describeAjvErrors, validatePackDoc } from './schema.js';

/** Where problems of one file are collected while it is parsed. */
export interface PackContext {
  file: string;
  errors: PackLoadError[];
  warnings: PackLoadError[];
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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

function nameProblem(kind: 'pack' | 'query', name: string): string | undefined {
  if (name === '') return `${kind} name must not be empty`;
  if (name.includes('/')) return `${kind} name "${name}" must not contain '/' (it is the pack delimiter)`;
  return undefined;
}

/** Validates and normalises one pack object found at `base` (a JSON pointer) in the file. */
export function buildPack(name: string, raw: unknown, base: string, ctx: PackContext): Pack | undefined {
  const before = ctx.errors.length;
  const np = nameProblem('pack', name);
  if (np) ctx.errors.push(structureError(ctx.file, base, np));
  if (!validatePackDoc(raw)) {
    for (const p of describeAjvErrors(validatePackDoc.errors, base))
      ctx.errors.push(structureError(ctx.file, p.path, p.message));
  }
  if (!isRecord(raw) || ctx.errors.length > before) return undefined;

  const pack: Pack = { name, source: ctx.file, queries: {} };
  copyPackKeys(pack, raw, base, ctx);
  const queries = isRecord(raw.queries) ? raw.queries : {};
  if (!('queries' in raw)) ctx.warnings.push(structureError(ctx.file, base, 'the pack has no queries'));
  for (const [qname, qraw] of Object.entries(queries)) {
    const q = buildQuery(qname, qraw, joinPointer(base, 'queries', qname), ctx);
    if (q) pack.queries[qname] = q;
  }
  if (pack.shard !== undefined && pack.shard > 100) {
    ctx.errors.push(structureError(ctx.file, joinPointer(base, 'shard'), 'must be a whole number from 0 to 100'));
  }
  return ctx.errors.length > before ? undefined : pack;
}

/** The pack-level keys (platform, version, shard, discovery, …) into `pack`, as osquery reads them. */
function copyPackKeys(pack: Pack, raw: Record<string, unknown>, base: string, ctx: PackContext): void {
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
}

/**
 * One query of a pack at `qpath`: undefined when it is skipped (not an object: the schema reported it;
 * a name that cannot be a check id: reported here). A query with other errors is returned, its errors
 * reported (the pack is then refused).
 */
function buildQuery(qname: string, qraw: unknown, qpath: string, ctx: PackContext): PackQuery | undefined {
  if (!isRecord(qraw)) return undefined; // already reported by the schema
  const qp = nameProblem('query', qname);
  if (qname === '' || (qp && qraw.check !== undefined)) {
    ctx.errors.push(
      structureError(
        ctx.file,
        qpath,
        qraw.check !== undefined ? `check id "${qname}" must not contain '/'` : (qp ?? 'invalid query name'),
      ),
    );
    return undefined;
  }
  if (qp) {
    // Third-party packs (osquery's ossec-rootkit) use '/' in query names. Pack names never hold '/', so
    // `pack/<pack>/<query>` still splits unambiguously at the first '/' after the pack name.
    ctx.warnings.push(
      structureError(ctx.file, qpath, `query name "${qname}" contains '/': allowed, but avoid it in your own packs`),
    );
  }
  const q = normalisedQuery(qraw, qpath, ctx);
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
  return q;
}

/** A query's keys with osquery's coercions (integers, booleans); an unknown key is kept, with a warning. */
function normalisedQuery(qraw: Record<string, unknown>, qpath: string, ctx: PackContext): PackQuery {
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
  return q;
}
