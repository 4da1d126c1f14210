/**
 * Loading `packs/*.json` and `packs/*.conf` (SPEC §5). A broken file is refused with messages naming the
 * file, the location and the problem; loading continues with the other files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { CheckDef, Pack } from '../domain/types.js';
import { validateSql } from '../osquery-tables/tables.js';
import { fileError, joinPointer, structureError, type PackLoadError } from './errors.js';
import { collectChecks, parsePackText, type PackParseResult } from './parse.js';
import { familiesOf, intersectPlatforms } from './platform.js';

export const PACK_FILE_EXTENSIONS = ['.json', '.conf'] as const;

export interface PacksLoadResult {
  packs: Pack[];
  checks: CheckDef[];
  errors: PackLoadError[];
  warnings: PackLoadError[];
}

/** The pack name a file gives its plain pack (or its `schedule`): the file name without its extension. */
export function packNameOfFile(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  return ext ? base.slice(0, -ext.length) : base;
}

/** Loads one pack or osquery config file (any extension). */
export function loadPackFile(path: string): PackParseResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { packs: [], checks: [], errors: [fileError(path, `cannot read the file: ${reason}`)], warnings: [] };
  }
  return parsePackText(packNameOfFile(path), text, path);
}

/**
 * Loads every `*.json` and `*.conf` file of `dir` (not recursive), in name order, except policy files.
 * Pack names must be unique across files and check ids unique across packs: on a clash the later file's
 * pack is refused, with a message naming both files.
 */
export function loadPacksDir(dir: string): PacksLoadResult {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && (PACK_FILE_EXTENSIONS as readonly string[]).includes(extname(d.name)))
      .map((d) => d.name)
      .filter((n) => packNameOfFile(n) !== 'policy')
      .sort();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return {
      packs: [],
      checks: [],
      errors: [fileError(dir, `cannot read the packs directory: ${reason}`)],
      warnings: [],
    };
  }
  const merged = mergePackResults(names.map((n) => loadPackFile(join(dir, n))));
  merged.warnings.push(...sqlWarnings(merged.packs));
  return merged;
}

/**
 * Queries that cannot run on a platform they target (unknown table, column or function in osquery's
 * schema, or a syntax error), as warnings: the agent would report them as failed. Not errors, because a
 * query may use an extension's table (e.g. Fleet's `mdm`) that the core schema does not know.
 */
export function sqlWarnings(packs: readonly Pack[]): PackLoadError[] {
  const out: PackLoadError[] = [];
  for (const pack of packs) {
    for (const [name, q] of Object.entries(pack.queries)) {
      for (const platform of familiesOf(intersectPlatforms(pack.platform, q.platform))) {
        if (platform === 'freebsd') continue;
        const v = validateSql(q.query, platform);
        if (!v.ok) {
          const what = q.check ? `check "${name}"` : `query "${name}"`;
          out.push(
            structureError(
              pack.source,
              joinPointer('', 'queries', name, 'query'),
              `pack "${pack.name}" ${what} cannot run on ${platform}: ${v.error}`,
            ),
          );
        }
      }
    }
  }
  return out;
}

/**
 * Combines per-file results into one set: packs with a name already taken are refused, and check ids
 * must stay unique across all packs.
 */
export function mergePackResults(results: PackParseResult[]): PacksLoadResult {
  const errors: PackLoadError[] = [];
  const warnings: PackLoadError[] = [];
  const byName = new Map<string, Pack>();
  for (const r of results) {
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    for (const pack of r.packs) {
      const prior = byName.get(pack.name);
      if (prior) {
        errors.push(
          structureError(pack.source, '', `duplicate pack name "${pack.name}": already loaded from ${prior.source}`),
        );
        continue;
      }
      byName.set(pack.name, pack);
    }
  }
  const candidates = [...byName.values()];
  const { errors: dupErrors } = collectChecks(candidates);
  // A pack with a clashing check id is refused as a whole (its file is broken), keeping the first one.
  const refused = new Set(dupErrors.map((e) => e.file));
  const packs = candidates.filter(
    (p) => !refused.has(p.source) || !dupErrors.some((e) => e.file === p.source && packHasCheckIn(p, e)),
  );
  errors.push(...dupErrors);
  const { checks } = collectChecks(packs);
  return { packs, checks, errors, warnings };
}

function packHasCheckIn(pack: Pack, err: PackLoadError): boolean {
  const m = /^\/queries\/([^/]+)\/check$/.exec(err.path ?? '');
  const id = m?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
  return id !== undefined && pack.queries[id]?.check !== undefined;
}
