/**
 * Parsing of pack text: osquery pack files (`{"queries": …}`) and full osquery config files (inline
 * `packs` and/or a `schedule`), with osquery's comment stripping, each pack validated by pack-build.ts;
 * then the posture checks of the packs, unique across them. Pure: no file system access (see load.ts).
 */
import type { CheckDef, Pack, Severity } from '../domain/types.js';
import { fileError, joinPointer, structureError, syntaxError, type PackLoadError } from './errors.js';
import { parseConfigText } from './json-text.js';
import { buildPack, isRecord, type PackContext } from './pack-build.js';
import { intersectPlatforms } from './platform.js';

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
    if (q.check.fail_title !== undefined) def.failTitle = q.check.fail_title;
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
            `duplicate check id "${def.id}": already defined in pack "${prior.pack}" (${prior.source}); ` +
              'check ids must be unique across packs',
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
  const ctx: PackContext = { file: source, errors: [], warnings: [] };
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
  return done(configPacks(name, doc, ctx));
}

/** The packs of a full osquery config: its `schedule` (a pack named `name`), then its inline `packs`. */
function configPacks(name: string, doc: Record<string, unknown>, ctx: PackContext): Pack[] {
  const source = ctx.file;
  const packs: Pack[] = [];
  const hasSchedule = 'schedule' in doc;
  const hasPacks = 'packs' in doc;
  if (hasSchedule) {
    const pack = schedulePack(name, doc.schedule, ctx);
    if (pack) packs.push(pack);
  }
  if (hasPacks) packs.push(...inlinePacks(doc.packs, hasSchedule ? name : undefined, ctx));
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
  return packs;
}

/** A config's `schedule` as the pack `name`, its problems located under /schedule. */
function schedulePack(name: string, schedule: unknown, ctx: PackContext): Pack | undefined {
  const source = ctx.file;
  if (!isRecord(schedule)) {
    ctx.errors.push(structureError(source, '/schedule', 'must be an object of queries'));
    return undefined;
  }
  const [e0, w0] = [ctx.errors.length, ctx.warnings.length];
  const pack = buildPack(name, { queries: schedule }, '', ctx);
  // buildPack reports paths as /queries/<q>; a schedule's queries live under /schedule/<q>.
  const relocate = (e: PackLoadError): PackLoadError =>
    e.path?.startsWith('/queries/')
      ? structureError(source, `/schedule${e.path.slice('/queries'.length)}`, e.problem)
      : e;
  ctx.errors.splice(e0, ctx.errors.length - e0, ...ctx.errors.slice(e0).map(relocate));
  ctx.warnings.splice(w0, ctx.warnings.length - w0, ...ctx.warnings.slice(w0).map(relocate));
  return pack;
}

/** A config's inline `packs` (a path-valued pack skipped with a warning); `scheduleName` is taken. */
function inlinePacks(raw: unknown, scheduleName: string | undefined, ctx: PackContext): Pack[] {
  const source = ctx.file;
  if (!isRecord(raw)) {
    ctx.errors.push(structureError(source, '/packs', 'must be an object mapping pack names to packs'));
    return [];
  }
  const packs: Pack[] = [];
  for (const [pname, praw] of Object.entries(raw)) {
    const base = joinPointer('', 'packs', pname);
    if (typeof praw === 'string') {
      ctx.warnings.push(
        structureError(
          source,
          base,
          `pack "${pname}" refers to "${praw}" (a path); ` +
            "osquery's TLS config plugin cannot load it, so it is skipped",
        ),
      );
      continue;
    }
    if (!isRecord(praw)) {
      ctx.errors.push(structureError(source, base, 'a pack must be an object'));
      continue;
    }
    if (pname === scheduleName) {
      ctx.errors.push(structureError(source, base, `pack "${pname}" has the same name as this file's schedule pack`));
      continue;
    }
    const pack = buildPack(pname, praw, base, ctx);
    if (pack) packs.push(pack);
  }
  return packs;
}
