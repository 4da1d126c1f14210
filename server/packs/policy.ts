/**
 * `packs/policy.yaml` (or `policy.json`): tiers, resources and break-glass rules (SPEC §5), validated
 * with a closed JSON Schema (unknown keys are errors) and cross-checked against the loaded checks.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument, isMap, isPair, isScalar, stringify, type Node as YamlNode } from 'yaml';
import type { Approval, BreakGlassPolicy, Policy, Resource, ResourceMode, Tier } from '../domain/types.js';
import { AppError } from '../shared/errors.js';
import { DURATION_PATTERN, parseDuration } from '../shared/duration.js';
import { nestedDeeperThan, tooDeepMessage } from '../shared/json-depth.js';
import { oneByte } from '../shared/one-byte.js';
import { fileError, joinPointer, structureError, syntaxError, type PackLoadError } from './errors.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { lineColumnOf } from './json-text.js';
import { describeAjvErrors } from './schema.js';

export const DEFAULT_BREAK_GLASS_MAX_DURATION = '4h';
export const DEFAULT_BREAK_GLASS_LIMIT = { count: 3, window: '30d' } as const;
export const DEFAULT_APPROVAL: Approval = 'required';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export const policySchema = {
  $id: 'https://trustgate.dev/schemas/policy.json',
  type: 'object',
  additionalProperties: false,
  required: ['tiers', 'resources'],
  properties: {
    tiers: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['max_age', 'checks'],
        properties: {
          max_age: duration,
          checks: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          require_device_user: { type: 'boolean' },
        },
      },
    },
    resources: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['tier', 'mode'],
        properties: {
          tier: { type: 'string', minLength: 1 },
          mode: { enum: ['enforce', 'monitor'] },
          hosts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          title: { type: 'string', minLength: 1 },
        },
      },
    },
    break_glass: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_duration: duration,
        limit: {
          type: 'object',
          additionalProperties: false,
          required: ['count', 'window'],
          properties: { count: { type: 'integer', minimum: 0 }, window: duration },
        },
        approval: { type: 'object', additionalProperties: { enum: ['none', 'required', 'never'] } },
        webhook: { type: 'string', pattern: '^https?://[^\\s]+$' },
      },
    },
    webhook: { type: 'string', pattern: '^https?://[^\\s]+$' },
  },
} as const;

interface PolicyDoc {
  tiers: Record<string, { max_age: string; checks: string[]; require_device_user?: boolean }>;
  resources: Record<string, { tier: string; mode: ResourceMode; hosts?: string[]; title?: string }>;
  break_glass?: {
    max_duration?: string;
    limit?: { count: number; window: string };
    approval?: Record<string, Approval>;
    webhook?: string;
  };
  /** Where device-identity events go (else break_glass.webhook). */
  webhook?: string;
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validatePolicyDoc = ajv.compile<PolicyDoc>(policySchema);

export type PolicyFormat = 'yaml' | 'json';

/**
 * Locates a JSON pointer in the parsed YAML (for line numbers in messages), falling back to the deepest
 * existing ancestor.
 */
type Locator = (pointer: string) => { line: number; column: number } | undefined;

function yamlLocator(root: YamlNode | null | undefined, counter: LineCounter): Locator {
  return (pointer) => {
    const keys = pointer
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    let node: unknown = root;
    let at: number | undefined = (root as { range?: [number, number, number] } | null | undefined)?.range?.[0];
    for (const key of keys) {
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      at = keyRange?.[0] ?? at;
      node = pair.value;
      const v = node as { range?: [number, number, number] } | null;
      if (v?.range && !isMap(node)) at = v.range[0];
    }
    if (at === undefined) return undefined;
    const pos = counter.linePos(at);
    return { line: pos.line, column: pos.col };
  };
}

/** Parses the text into a document, reporting YAML/JSON syntax errors with line:column. */
function parseText(
  text: string,
  format: PolicyFormat,
  source: string,
): { doc: unknown; locate: Locator } | PackLoadError {
  if (format === 'json') {
    try {
      const doc = JSON.parse(text) as unknown;
      if (nestedDeeperThan(doc)) return syntaxError(source, 1, 1, `invalid JSON: ${tooDeepMessage('the document')}`);
      return { doc, locate: () => undefined };
    } catch (e) {
      const p = findJsonSyntaxError(text);
      const { line, column } = lineColumnOf(text, p?.offset ?? text.length);
      return syntaxError(
        source,
        line,
        column,
        `invalid JSON: ${p?.message ?? (e instanceof Error ? e.message : 'syntax error')}`,
      );
    }
  }
  const counter = new LineCounter();
  try {
    const document = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
    const first = document.errors[0];
    if (first) {
      const pos = counter.linePos(first.pos[0]);
      const problem = first.message.split('\n')[0] ?? first.message;
      return syntaxError(source, pos.line, pos.col, `invalid YAML: ${problem}`);
    }
    // aliases expand at most MAX_YAML_ALIASES times: an alias bomb is refused, not expanded into memory
    const doc = narrowed(document.toJS({ maxAliasCount: MAX_YAML_ALIASES, mapAsMap: true }));
    if (nestedDeeperThan(doc)) return syntaxError(source, 1, 1, `invalid YAML: ${tooDeepMessage('the document')}`);
    return { doc, locate: yamlLocator(document.contents, counter) };
  } catch (e) {
    // the yaml library throws (instead of reporting) on alias bombs and on nesting deep enough to overflow
    const problem = e instanceof RangeError ? tooDeepMessage('the document') : errorText(e);
    return syntaxError(source, 1, 1, `invalid YAML: ${problem}`);
  }
}

/** A collection used as a key, named as the yaml library names it in a plain object. */
const flowText = (k: object): string => stringify(k, { collectionStyle: 'flow' }).trim();

/**
 * The yaml library's values (maps as Map: their keys are not yet property names) as plain objects and
 * arrays whose strings and keys are one-byte where the text allows (shared/one-byte.ts: a policy file
 * with one wide character anywhere would otherwise make every name in it two-byte). Keys are named as
 * the yaml library names them in plain objects: null as "", a scalar as its text, a collection in flow
 * style.
 */
function narrowed(v: unknown): unknown {
  if (typeof v === 'string') return oneByte(v);
  if (Array.isArray(v)) return v.map(narrowed);
  if (!(v instanceof Map)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of v as Map<unknown, unknown>) {
    const key = k === null || k === undefined ? '' : typeof k === 'object' ? flowText(k) : String(k);
    // defineProperty: a "__proto__" key is an own property, as the yaml library makes it
    Object.defineProperty(out, oneByte(key), {
      value: narrowed(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** How many alias expansions a policy document may make (the yaml library's own default is 100). */
export const MAX_YAML_ALIASES = 100;

const errorText = (e: unknown): string => (e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));

function refuse(source: string, problems: PackLoadError[]): never {
  const head = problems
    .slice(0, 10)
    .map((p) => p.message)
    .join('; ');
  const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
  throw new AppError('invalid', `policy refused: ${head}${more}`, { file: source, errors: problems });
}

/**
 * Parses and validates a policy document. `checkIds` are the loaded check ids: every tier check must be
 * one of them. Throws AppError('invalid') whose message names the file, the path inside it and the
 * problem; `details.errors` lists every problem (PackLoadError[]).
 */
export function parsePolicy(text: string, format: PolicyFormat, checkIds: Iterable<string>, source: string): Policy {
  const parsed = parseText(text, format, source);
  if ('problem' in parsed) refuse(source, [parsed]);
  const { doc, locate } = parsed;
  if (doc === null || doc === undefined) refuse(source, [fileError(source, 'the policy is empty')]);
  const at = (path: string, problem: string): PackLoadError => structureError(source, path, problem, locate(path));

  if (!validatePolicyDoc(doc)) {
    const problems = describeAjvErrors(validatePolicyDoc.errors).map((p) => {
      let message = p.message;
      if (/\/(max_age|max_duration|window)$/.test(p.path) && message.startsWith('must match pattern')) {
        message = 'invalid duration: expected <n>s, <n>m, <n>h or <n>d (e.g. 15m)';
      } else if (message.startsWith('must match pattern') && p.path.endsWith('/webhook')) {
        message = 'must be an http(s) URL';
      }
      return at(p.path, message);
    });
    refuse(source, problems);
  }

  const known = new Set(checkIds);
  const problems: PackLoadError[] = [];
  const tiers: Record<string, Tier> = {};
  for (const [name, t] of Object.entries(doc.tiers)) {
    t.checks.forEach((id, i) => {
      if (!known.has(id))
        problems.push(
          at(
            joinPointer('', 'tiers', name, 'checks', i),
            `unknown check "${id}" (no loaded pack defines a check with this id)`,
          ),
        );
    });
    tiers[name] = { name, maxAgeMs: parseDuration(t.max_age), checks: [...t.checks] };
    if (t.require_device_user === true) tiers[name].requireDeviceUser = true;
  }
  const resources: Record<string, Resource> = {};
  const hostOwner = new Map<string, string>();
  for (const [name, r] of Object.entries(doc.resources)) {
    if (!(r.tier in doc.tiers))
      problems.push(at(joinPointer('', 'resources', name, 'tier'), `unknown tier "${r.tier}"`));
    for (const [i, h] of (r.hosts ?? []).entries()) {
      const host = h.toLowerCase();
      const owner = hostOwner.get(host);
      if (owner !== undefined && owner !== name) {
        problems.push(
          at(joinPointer('', 'resources', name, 'hosts', i), `host "${h}" is already mapped to resource "${owner}"`),
        );
      }
      hostOwner.set(host, name);
    }
    const res: Resource = { name, tier: r.tier, mode: r.mode, hosts: [...(r.hosts ?? [])] };
    if (r.title !== undefined) res.title = r.title;
    resources[name] = res;
  }
  const bg = doc.break_glass ?? {};
  const approval: Record<string, Approval> = {};
  for (const [tier, a] of Object.entries(bg.approval ?? {})) {
    if (!(tier in doc.tiers))
      problems.push(at(joinPointer('', 'break_glass', 'approval', tier), `unknown tier "${tier}"`));
    approval[tier] = a;
  }
  for (const tier of Object.keys(doc.tiers)) approval[tier] ??= DEFAULT_APPROVAL;
  if (problems.length > 0) refuse(source, problems);

  const limit = bg.limit ?? DEFAULT_BREAK_GLASS_LIMIT;
  const breakGlass: BreakGlassPolicy = {
    maxDurationMs: parseDuration(bg.max_duration ?? DEFAULT_BREAK_GLASS_MAX_DURATION),
    limit: { count: limit.count, windowMs: parseDuration(limit.window) },
    approval,
  };
  if (bg.webhook !== undefined) breakGlass.webhook = bg.webhook;
  return { tiers, resources, breakGlass, source: doc, ...(doc.webhook !== undefined ? { webhook: doc.webhook } : {}) };
}

/** Reads and validates a policy file (`.yaml`/`.yml` as YAML, `.json` as JSON). */
export function loadPolicy(file: string, checkIds: Iterable<string>): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    refuse(file, [fileError(file, `cannot read the policy file: ${reason}`)]);
  }
  const format: PolicyFormat = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
  return parsePolicy(text, format, checkIds, file);
}

/** The errors carried by an AppError thrown by parsePolicy/loadPolicy (empty for any other error). */
export function policyErrorsOf(e: unknown): PackLoadError[] {
  if (!(e instanceof AppError)) return [];
  const details = e.details as { errors?: unknown } | undefined;
  return Array.isArray(details?.errors) ? (details.errors as PackLoadError[]) : [];
}
