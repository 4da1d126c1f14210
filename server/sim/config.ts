/**
 * The parts of an osquery config document a simulated agent acts on: options and the schedule
 * (top-level `schedule` = pack "main" with bare names, plus inline `packs`), filtered per platform as
 * osquery does on the client.
 */
import { createHash } from 'node:crypto';
import type { SimPlatform } from './identity.js';

export interface ScheduledQuery {
  /** Name as logged: bare for `schedule`, `pack<D><pack><D><query>` for packs. */
  logName: string;
  pack: string | null;
  query: string;
  sql: string;
  interval: number;
  snapshot: boolean;
  removed: boolean;
  /** Pack or query shard (1–100), if any. */
  shard: number | null;
  version: string | null;
  /** Pack discovery queries (all must return a row). */
  discovery: readonly string[];
}

/** Options a simulated agent honours (config `options` over its command-line flags). */
export interface AgentOptions {
  logger_tls_period: number;
  logger_tls_max_lines: number;
  logger_tls_compress: boolean;
  logger_tls_backoff_max: number;
  logger_event_type: boolean;
  logger_snapshot_event_type: boolean;
  buffered_log_max: number;
  tls_disable_status_log: boolean;
  disable_distributed: boolean;
  distributed_interval: number;
  distributed_tls_max_attempts: number;
  host_identifier: string;
  pack_delimiter: string;
  schedule_splay_percent: number;
  schedule_default_interval: number;
  schedule_epoch: number;
}

/** osquery's defaults, with the flags Trustgate's flag file sets (distributed on). */
export const OSQUERY_DEFAULT_OPTIONS: Readonly<AgentOptions> = {
  logger_tls_period: 4,
  logger_tls_max_lines: 1024,
  logger_tls_compress: false,
  logger_tls_backoff_max: 3600,
  logger_event_type: true,
  logger_snapshot_event_type: false,
  buffered_log_max: 1_000_000,
  tls_disable_status_log: false,
  disable_distributed: false,
  distributed_interval: 60,
  distributed_tls_max_attempts: 3,
  host_identifier: 'hostname',
  pack_delimiter: '_',
  schedule_splay_percent: 10,
  schedule_default_interval: 3600,
  schedule_epoch: 0,
};

export interface CompiledConfig {
  hash: string;
  options: AgentOptions;
  /** The queries that run on a platform (platform filter applied; shard/discovery are per host). */
  scheduleFor(platform: SimPlatform): readonly ScheduledQuery[];
  decoratorsLoad: readonly string[];
  decoratorsAlways: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const bool = (v: unknown): boolean | undefined => {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 0 || v === '0') return false;
  return undefined;
};

/**
 * osquery's platform filter (checkPlatform): substring matching, `any`/`all` match everything,
 * `posix` matches darwin and linux, `linux` also matches ubuntu/centos hosts.
 */
export function platformMatches(filter: string | undefined, platform: SimPlatform): boolean {
  if (filter === undefined || filter === '') return true;
  const f = filter.toLowerCase();
  if (f.includes('any') || f.includes('all')) return true;
  if (f.includes(platform)) return true;
  if (platform !== 'windows' && f.includes('posix')) return true;
  if (platform === 'linux' && (f.includes('ubuntu') || f.includes('centos'))) return true;
  return false;
}

export function mergeOptions(base: AgentOptions, raw: unknown): AgentOptions {
  const o: AgentOptions = { ...base };
  if (!isRecord(raw)) return o;
  for (const key of Object.keys(o) as Array<keyof AgentOptions>) {
    const v = raw[key];
    if (v === undefined) continue;
    const cur = o[key];
    if (typeof cur === 'number') {
      const n = num(v);
      if (n !== undefined) Object.assign(o, { [key]: n });
    } else if (typeof cur === 'boolean') {
      const b = bool(v);
      if (b !== undefined) Object.assign(o, { [key]: b });
    } else if (typeof v === 'string') {
      Object.assign(o, { [key]: v });
    }
  }
  return o;
}

function readQueries(
  raw: unknown,
  pack: string | null,
  packPlatform: string | undefined,
  packShard: number | null,
  packVersion: string | null,
  discovery: string[],
  delim: string,
  defaultInterval: number,
): Array<ScheduledQuery & { platform: string | undefined }> {
  const out: Array<ScheduledQuery & { platform: string | undefined }> = [];
  if (!isRecord(raw)) return out;
  for (const [name, q] of Object.entries(raw)) {
    if (!isRecord(q) || typeof q.query !== 'string') continue;
    const interval = num(q.interval) ?? defaultInterval;
    // osquery rejects intervals <= 0 or above a week.
    if (interval <= 0 || interval > 604800) continue;
    const shard = num(q.shard) ?? packShard;
    out.push({
      logName: pack === null ? name : `pack${delim}${pack}${delim}${name}`,
      pack,
      query: name,
      sql: q.query,
      interval: Math.floor(interval),
      snapshot: bool(q.snapshot) ?? false,
      removed: bool(q.removed) ?? true,
      shard: shard ?? null,
      version: typeof q.version === 'string' ? q.version : packVersion,
      discovery,
      platform: typeof q.platform === 'string' ? q.platform : packPlatform,
    });
  }
  return out;
}

/** Parses a config response body (already known not to carry `error`/`node_invalid: true`). */
export function compileConfig(doc: unknown, flags: AgentOptions, text?: string): CompiledConfig {
  const body = isRecord(doc) ? doc : {};
  const options = mergeOptions(flags, body.options);
  const delim = options.pack_delimiter;
  const all: Array<ScheduledQuery & { platform: string | undefined }> = [];
  all.push(...readQueries(body.schedule, null, undefined, null, null, [], delim, options.schedule_default_interval));
  if (isRecord(body.packs)) {
    for (const [packName, p] of Object.entries(body.packs)) {
      // A string value names a pack file, which the TLS config plugin cannot load: dropped.
      if (!isRecord(p)) continue;
      const discovery = Array.isArray(p.discovery) ? p.discovery.filter((d): d is string => typeof d === 'string') : [];
      all.push(
        ...readQueries(
          p.queries,
          packName,
          typeof p.platform === 'string' ? p.platform : undefined,
          num(p.shard) ?? null,
          typeof p.version === 'string' ? p.version : null,
          discovery,
          delim,
          options.schedule_default_interval,
        ),
      );
    }
  }
  const perPlatform = new Map<SimPlatform, ScheduledQuery[]>();
  const deco = isRecord(body.decorators) ? body.decorators : {};
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  return {
    hash: createHash('sha1')
      .update(text ?? JSON.stringify(body))
      .digest('hex'),
    options,
    scheduleFor(platform) {
      let s = perPlatform.get(platform);
      if (!s) {
        s = all.filter((q) => platformMatches(q.platform, platform)).map(({ platform: _p, ...q }) => q);
        perPlatform.set(platform, s);
      }
      return s;
    },
    decoratorsLoad: strings(deco.load),
    decoratorsAlways: strings(deco.always),
  };
}

/** osquery's shard rule: the host is in when sha1(hostname)[0] * 100 / 255 <= shard. */
export function inShard(hostname: string, shard: number | null): boolean {
  if (shard === null || shard <= 0 || shard >= 100) return true;
  const first = createHash('sha1').update(hostname).digest()[0] ?? 0;
  return (first * 100) / 255 <= shard;
}
