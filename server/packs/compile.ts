/**
 * Compiling the osquery config document for one host (pure), and resolving result-log names back to
 * pack queries.
 */
import type { CheckDef, Host, Pack, PackQuery } from '../domain/types.js';
import { sha256Hex } from '../shared/crypto.js';
import { AppError } from '../shared/errors.js';
import { checkPlatform, familyOf } from './platform.js';

/** osquery refuses a config larger than this (osquery-protocol.md §3.2, `kMaxConfigSize`). */
export const OSQUERY_MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The delimiter Trustgate asks agents to use: names cannot contain it, so log names split unambiguously. */
export const PACK_DELIMITER = '/';

export type OptionValue = string | number | boolean;

export interface CompileOptions {
  /** Seconds between distributed (recheck / live query) polls. Default 10. */
  distributedInterval?: number;
  /** Seconds between log flushes. Default 10. */
  loggerTlsPeriod?: number;
  /** Max lines per log request. Default 1024. */
  loggerTlsMaxLines?: number;
  /** Extra or overriding osquery options (flag name → value). */
  overrides?: Record<string, OptionValue>;
  /** Size limit of the serialized config; default OSQUERY_MAX_CONFIG_BYTES. */
  maxBytes?: number;
}

export interface CompiledPack {
  queries: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface OsqueryConfig {
  options: Record<string, OptionValue>;
  packs: Record<string, CompiledPack>;
}

export function defaultOptions(options: CompileOptions = {}): Record<string, OptionValue> {
  return {
    pack_delimiter: PACK_DELIMITER,
    distributed_interval: options.distributedInterval ?? 10,
    logger_tls_period: options.loggerTlsPeriod ?? 10,
    logger_tls_max_lines: options.loggerTlsMaxLines ?? 1024,
    disable_distributed: false,
    distributed_tls_max_attempts: 3,
    logger_snapshot_event_type: false,
    schedule_splay_percent: 10,
  };
}

const byKey = <T>(entries: Array<[string, T]>): Array<[string, T]> =>
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** A JSON-safe deep copy with object keys sorted (so equal input gives byte-identical output). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of byKey(Object.entries(value))) {
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function compileQuery(q: PackQuery): Record<string, unknown> {
  const { check: _check, ...rest } = q;
  return canonical(rest) as Record<string, unknown>;
}

/**
 * The config document for `host`: options, and the packs whose platform matches the host (osquery's
 * client-side rules, pack and query level), with every `check` extension stripped. Deterministic: the
 * same input always serializes to the same bytes. Throws AppError('invalid') above osquery's size limit.
 */
export function compileConfig(
  host: Pick<Host, 'platform' | 'osPlatform'>,
  packs: readonly Pack[],
  options: CompileOptions = {},
): OsqueryConfig {
  const compiledPacks: Record<string, CompiledPack> = {};
  const sorted = [...packs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const pack of sorted) {
    if (!checkPlatform(pack.platform, host)) continue;
    const { name: _name, source: _source, queries, ...packLevel } = pack;
    const compiled: CompiledPack = { ...(canonical(packLevel) as Record<string, unknown>), queries: {} };
    for (const [qname, q] of byKey(Object.entries(queries))) {
      if (!checkPlatform(q.platform, host)) continue;
      compiled.queries[qname] = compileQuery(q);
    }
    compiledPacks[pack.name] = canonical(compiled) as CompiledPack;
  }
  const opts = canonical({ ...defaultOptions(options), ...(options.overrides ?? {}) }) as Record<string, OptionValue>;
  const config: OsqueryConfig = { options: opts, packs: compiledPacks };
  const bytes = Buffer.byteLength(JSON.stringify(config));
  const limit = options.maxBytes ?? OSQUERY_MAX_CONFIG_BYTES;
  if (bytes > limit) {
    throw new AppError(
      'invalid',
      `the osquery config for this host is ${bytes} bytes, over osquery's limit of ${limit} bytes: ` +
        'split or trim the packs',
      {
        bytes,
        limit,
      },
    );
  }
  return config;
}

export interface CompiledConfig {
  config: OsqueryConfig;
  /** The exact response body. */
  json: string;
  /** SHA-256 of `json`: changes only when the config a host gets changes. */
  hash: string;
}

export interface ConfigCompiler {
  /** The config for a host; hosts of the same platform family share one compiled result. */
  configFor(host: Pick<Host, 'platform' | 'osPlatform'>): CompiledConfig;
}

/**
 * compileConfig memoised per platform family (the only thing of the host the output depends on).
 * Build a new compiler when packs or options change.
 */
export function createConfigCompiler(packs: readonly Pack[], options: CompileOptions = {}): ConfigCompiler {
  const cache = new Map<string, CompiledConfig>();
  return {
    configFor(host) {
      const key = familyOf(host) ?? 'unknown';
      let hit = cache.get(key);
      if (!hit) {
        const config = compileConfig(host, packs, options);
        const json = JSON.stringify(config);
        hit = { config, json, hash: sha256Hex(json) };
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

export interface QueryResolver {
  /**
   * The canonical key `<pack>/<query>` of a result log `name`: `pack/<pack>/<query>` (unambiguous: pack
   * names cannot hold '/', so the pack ends at the first '/') or `pack_<pack>_<query>` (resolved against
   * the known pack+query pairs; an ambiguous or unknown underscore name gives undefined). Any other name
   * gives undefined.
   */
  queryKeyOf(logName: string): string | undefined;
  /** The check id of a query key, when that query is a posture check. */
  checkIdOfQueryKey(queryKey: string): string | undefined;
  /** The query key of a check id. */
  queryKeyOfCheck(checkId: string): string | undefined;
  /** True when the key is a query of the loaded packs (scheduled by Trustgate): only those are stored. */
  isScheduled(queryKey: string): boolean;
}

export const queryKey = (pack: string, query: string): string => `${pack}/${query}`;

/** Builds the resolver for the loaded packs (rebuild it when packs change). */
export function createQueryResolver(packs: readonly Pack[]): QueryResolver {
  const underscore = new Map<string, string | null>(); // null = ambiguous
  const checkOfKey = new Map<string, string>();
  const keyOfCheck = new Map<string, string>();
  const scheduled = new Set<string>();
  for (const pack of packs) {
    for (const [qname, q] of Object.entries(pack.queries)) {
      const key = queryKey(pack.name, qname);
      scheduled.add(key);
      const legacy = `pack_${pack.name}_${qname}`;
      underscore.set(legacy, underscore.has(legacy) && underscore.get(legacy) !== key ? null : key);
      if (q.check) {
        checkOfKey.set(key, qname);
        keyOfCheck.set(qname, key);
      }
    }
  }
  return {
    queryKeyOf(logName) {
      if (logName.startsWith('pack/')) {
        const rest = logName.slice('pack/'.length);
        const at = rest.indexOf('/');
        if (at <= 0 || at === rest.length - 1) return undefined;
        return rest;
      }
      if (logName.startsWith('pack_')) return underscore.get(logName) ?? undefined;
      return undefined;
    },
    checkIdOfQueryKey: (key) => checkOfKey.get(key),
    queryKeyOfCheck: (id) => keyOfCheck.get(id),
    isScheduled: (key) => scheduled.has(key),
  };
}

/** The checks that apply to a host (their platform matches it): a check that does not apply never blocks it. */
export function checksForHost(host: Pick<Host, 'platform' | 'osPlatform'>, checks: readonly CheckDef[]): CheckDef[] {
  return checks.filter((c) => checkPlatform(c.platform, host));
}
