/**
 * `trustgate import fleet`: Fleet policy YAML → a Trustgate pack of checks (SPEC §5).
 *
 * Accepted shapes:
 * - multi-document YAML of `{apiVersion, kind: policy, spec: {name, query, description, resolution,
 *   platform, critical, …}}` (documents of other kinds, e.g. `query`, are skipped);
 * - a GitOps list of policies (`- name: … query: …`), or a GitOps file with a `policies:` list.
 *
 * Fleet semantics are kept: a policy passes when its query returns rows (no `pass` expression).
 */
import { parseAllDocuments } from 'yaml';
import type { Pack, PackQuery, Severity } from '../domain/types.js';
import { AppError } from '../shared/errors.js';
import { parsePackText } from './parse.js';

export interface FleetImportOptions {
  /** Pack name (default `fleet-policies`). */
  name?: string;
  /** Source recorded on the pack (default `fleet-import`). */
  source?: string;
  /** Interval of every imported query, seconds (default 3600, Fleet's policy update interval). */
  interval?: number;
}

export interface FleetImportResult {
  pack: Pack;
  /** Why documents or entries were not imported (kind, platform, missing fields). */
  skipped: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Fleet platform list ("darwin, linux", "windows", "chrome", "") → an osquery platform string. */
export function fleetPlatformToOsquery(platform: unknown): { platform?: string; unsupported: boolean } {
  const raw = typeof platform === 'string' ? platform : '';
  const parts = raw
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  if (parts.length === 0) return { unsupported: false };
  const mapped = new Set<string>();
  for (const p of parts) {
    if (p === 'darwin' || p === 'macos') mapped.add('darwin');
    else if (p === 'windows') mapped.add('windows');
    else if (p === 'linux' || p === 'ubuntu' || p === 'centos' || p === 'rhel' || p === 'debian') mapped.add('linux');
  }
  if (mapped.size === 0) return { unsupported: true };
  const ordered = ['darwin', 'linux', 'windows'].filter((p) => mapped.has(p));
  return ordered.length === 3 ? { unsupported: false } : { platform: ordered.join(','), unsupported: false };
}

/** A query name from a policy name: lower case, `[a-z0-9_]`, at most 64 characters. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64)
    .replace(/_+$/g, '');
  return slug === '' ? 'policy' : slug;
}

function policiesOf(text: string): { policies: Array<Record<string, unknown>>; skipped: string[] } {
  const policies: Array<Record<string, unknown>> = [];
  const skipped: string[] = [];
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      skipped.push(`document ${i + 1}: invalid YAML: ${err.message.split('\n')[0] ?? err.message}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      skipped.push(`document ${i + 1}: invalid YAML: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (value === null || value === undefined) return;
    const take = (items: unknown[], where: string): void => {
      items.forEach((item, j) => {
        if (isRecord(item) && 'path' in item && !('query' in item))
          skipped.push(`${where}[${j}]: a reference to ${String(item.path)} (import that file instead)`);
        else if (isRecord(item)) policies.push(item);
        else skipped.push(`${where}[${j}]: not a policy object`);
      });
    };
    if (Array.isArray(value)) take(value, `document ${i + 1}`);
    else if (isRecord(value) && Array.isArray(value.policies)) take(value.policies, `document ${i + 1} policies`);
    else if (isRecord(value) && 'kind' in value) {
      if (value.kind === 'policy' && isRecord(value.spec)) policies.push(value.spec);
      else skipped.push(`document ${i + 1}: kind "${String(value.kind)}" is not a policy`);
    } else if (isRecord(value) && 'query' in value && 'name' in value) policies.push(value);
    else skipped.push(`document ${i + 1}: not a Fleet policy document`);
  });
  return { policies, skipped };
}

/**
 * Converts Fleet policies to a pack of checks, reporting what was skipped. Throws AppError('invalid') when
 * nothing is importable.
 */
export function importFleetPoliciesDetailed(yamlText: string, options: FleetImportOptions = {}): FleetImportResult {
  const name = options.name ?? 'fleet-policies';
  const source = options.source ?? 'fleet-import';
  const { policies, skipped } = policiesOf(yamlText);
  const queries: Record<string, PackQuery> = {};
  for (const p of policies) {
    const title = str(p.name) ?? str(p.description);
    const sql = str(p.query);
    if (title === undefined || sql === undefined) {
      skipped.push(`policy "${title ?? '(no name)'}": no ${title === undefined ? 'name' : 'query'}`);
      continue;
    }
    const platform = fleetPlatformToOsquery(p.platform);
    if (platform.unsupported) {
      skipped.push(`policy "${title}": platform "${String(p.platform)}" has no osquery agent`);
      continue;
    }
    const base = slugify(title);
    let id = base;
    for (let n = 2; id in queries; n++) id = `${base}_${n}`;
    const message = str(p.resolution) ?? str(p.description) ?? `"${title}" is not passing on this device.`;
    const severity: Severity | undefined = p.critical === true ? 'high' : undefined;
    const q: PackQuery = {
      query: sql,
      interval: options.interval ?? 3600,
      snapshot: true,
      check: severity ? { title, message, severity } : { title, message },
    };
    if (platform.platform !== undefined) q.platform = platform.platform;
    const description = str(p.description);
    if (description !== undefined) q.description = description;
    queries[id] = q;
  }
  if (Object.keys(queries).length === 0) {
    const firstSkipped = skipped.slice(0, 3).join('; ');
    throw new AppError(
      'invalid',
      `no Fleet policies found to import${skipped.length ? ` (${skipped.length} skipped: ${firstSkipped})` : ''}`,
    );
  }
  // Round-trip through the pack parser: the result must be a pack Trustgate itself accepts.
  const parsed = parsePackText(name, JSON.stringify({ queries }), source);
  const pack = parsed.packs[0];
  if (parsed.errors.length > 0 || !pack) {
    throw new AppError('invalid', `the imported pack is invalid: ${parsed.errors.map((e) => e.message).join('; ')}`);
  }
  return { pack, skipped };
}

/** Fleet policy YAML → a pack of checks (`resolution` → `check.message`). */
export function importFleetPolicies(yamlText: string, options: FleetImportOptions = {}): Pack {
  return importFleetPoliciesDetailed(yamlText, options).pack;
}

/** The pack file text of a pack (what `import fleet` writes to `packs/<name>.json`). */
export function packToJson(pack: Pack): string {
  const { name: _name, source: _source, ...doc } = pack;
  return `${JSON.stringify(doc, null, 2)}\n`;
}
