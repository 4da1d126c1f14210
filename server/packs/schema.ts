/**
 * JSON Schemas (ajv) for osquery packs and Trustgate's `check` extension.
 *
 * osquery is lenient (packs.cpp skips what it cannot use); these schemas accept every shape osquery
 * accepts and uses, refuse wrong types, and leave unknown pack/query keys to the caller (osquery ignores
 * them; the loader warns). The `check` object is Trustgate's own and is closed: unknown keys are errors.
 */
import { Ajv, type ErrorObject } from 'ajv';

/** osquery: values ≤ 0 or above 604800 s (a week) make the query invalid (packs.cpp kMaxQueryInterval). */
export const MAX_QUERY_INTERVAL = 604800;

const numericString = { type: 'string', pattern: '^[0-9]+$' } as const;
/** JSON::valueToBool: a boolean, a string ("true"/"t" are true), or a number (non-zero is true). */
const boolish = {
  anyOf: [
    { type: 'boolean' },
    { type: 'string', pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[TtFf])$' },
    { type: 'integer' },
  ],
} as const;

export const checkSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'message'],
  properties: {
    title: { type: 'string', minLength: 1 },
    fail_title: { type: 'string', minLength: 1 },
    message: { type: 'string', minLength: 1 },
    remediation_url: { type: 'string', pattern: '^https?://[^\\s]+$' },
    pass: { type: 'string', minLength: 1 },
    severity: { enum: ['low', 'medium', 'high', 'critical'] },
  },
} as const;

export const packQuerySchema = {
  type: 'object',
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1 },
    interval: { anyOf: [{ type: 'integer', minimum: 1, maximum: MAX_QUERY_INTERVAL }, numericString] },
    platform: { type: 'string' },
    version: { type: 'string' },
    shard: { anyOf: [{ type: 'integer', minimum: 0, maximum: 100 }, numericString] },
    snapshot: boolish,
    removed: boolish,
    denylist: boolish,
    blacklist: boolish,
    startup_priority: { anyOf: [{ type: 'integer' }, numericString] },
    description: { type: 'string' },
    value: { type: 'string' },
    check: checkSchema,
  },
  additionalProperties: true,
} as const;

/** Query keys osquery (or Trustgate) knows; others are kept but reported as warnings. */
export const KNOWN_QUERY_KEYS = new Set(Object.keys(packQuerySchema.properties));

export const packSchema = {
  type: 'object',
  properties: {
    queries: { type: 'object', additionalProperties: packQuerySchema },
    platform: { type: 'string' },
    version: { type: 'string' },
    shard: { anyOf: [{ type: 'integer', minimum: 0, maximum: 100 }, numericString] },
    discovery: { type: 'array' },
    oncall: { type: 'string' },
  },
  additionalProperties: true,
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
export const validatePackDoc = ajv.compile(packSchema);

const FRIENDLY: Record<string, string> = {
  interval: `must be a whole number of seconds from 1 to ${MAX_QUERY_INTERVAL} (a number or a numeric string)`,
  shard: 'must be a whole number from 0 to 100 (a number or a numeric string)',
  snapshot: 'must be true or false',
  removed: 'must be true or false',
  denylist: 'must be true or false',
  blacklist: 'must be true or false',
  startup_priority: 'must be a whole number',
};

export interface SchemaProblem {
  path: string;
  message: string;
}

/** Turns ajv errors into one readable problem per location (anyOf branches folded into one message). */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined, base = ''): SchemaProblem[] {
  const list = errors ?? [];
  const anyOfPaths = new Set(list.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    let path = e.instancePath;
    let message: string;
    if (anyOfPaths.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    if (e.keyword === 'propertyNames') continue;
    const propertyName = (e as { propertyName?: unknown }).propertyName;
    if (typeof propertyName === 'string') {
      path = `${path}/${propertyName.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      message =
        `invalid name "${propertyName}": ` + 'use letters, digits, ".", "_" and "-", starting with a letter or digit';
    } else if (e.keyword === 'anyOf') {
      const key = decodeURIComponent(path.split('/').pop() ?? '')
        .replaceAll('~1', '/')
        .replaceAll('~0', '~');
      message = FRIENDLY[key] ?? 'has the wrong type';
    } else if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty?: unknown }).additionalProperty);
      path = `${path}/${extra.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      message = `unknown key "${extra}"`;
    } else if (e.keyword === 'required') {
      message = `missing required key "${String((e.params as { missingProperty?: unknown }).missingProperty)}"`;
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'pattern' && path.endsWith('/remediation_url')) {
      message = 'must be an http(s) URL';
    } else {
      message = e.message ?? 'is invalid';
    }
    const full = base + path;
    const k = `${full}\u0000${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ path: full, message });
  }
  return out;
}
