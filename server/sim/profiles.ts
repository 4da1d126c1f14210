/**
 * Host profiles: what the osquery tables of a simulated host contain. A profile is one platform, one
 * OS release and a set of failing "facets" (firewall off, disk not encrypted, …). Hosts that share a
 * profile share one SQLite database; values that differ per host (serial, UUID, hostname, …) are
 * stored as tokens and replaced in the result rows of each host (see host-tokens.ts).
 *
 * This module builds the catalogue; the data it is built from is in profile-data/: OS releases, the
 * tables every platform has, the macOS, Windows and Linux tables, and the facets.
 */
import type { TableRow } from './host-tokens.js';
import type { SimPlatform } from './identity.js';
import { sharedTables } from './profile-data/common.js';
import { DARWIN_TABLES } from './profile-data/darwin.js';
import { FACETS } from './profile-data/facets.js';
import { linuxTables } from './profile-data/linux.js';
import { OS_RELEASES, type OsRelease } from './profile-data/releases.js';
import { WINDOWS_TABLES } from './profile-data/windows.js';

export interface Profile {
  id: number;
  /** e.g. `darwin-15.2` or `darwin-15.2+firewall_off`. */
  name: string;
  platform: SimPlatform;
  /** OS label for people, e.g. "macOS 15.2". */
  os: string;
  /** Failing facets (empty: compliant). An outdated OS is the facet `os_outdated`. */
  facets: string[];
  tables: Record<string, TableRow[]>;
}

export interface ProfileCatalogue {
  profiles: readonly Profile[];
  byName: ReadonlyMap<string, Profile>;
  /** Compliant profiles of a platform (one per current OS release), with weights. */
  compliant(platform: SimPlatform): ReadonlyArray<readonly [Profile, number]>;
  /** Failing profiles of a platform, with weights. */
  failing(platform: SimPlatform): ReadonlyArray<readonly [Profile, number]>;
  /** The profile with the same OS and `facets` (sorted), if it is in the catalogue. */
  find(platform: SimPlatform, osKey: string, facets: readonly string[]): Profile | undefined;
  /** The compliant profile a host lands on when it fixes everything (OS updated if outdated). */
  fixed(p: Profile): Profile;
}

/** A deep copy of the tables (every row copied), for the facets to patch. */
const clone = (t: Readonly<Record<string, readonly TableRow[]>>): Record<string, TableRow[]> => {
  const out: Record<string, TableRow[]> = {};
  for (const [k, rows] of Object.entries(t)) out[k] = rows.map((r) => ({ ...r }));
  return out;
};

/** The tables of a compliant host of `platform` on `os`. */
const baseTables = (platform: SimPlatform, os: OsRelease): Record<string, readonly TableRow[]> => ({
  ...sharedTables(platform, os),
  ...(platform === 'darwin' ? DARWIN_TABLES : platform === 'windows' ? WINDOWS_TABLES : linuxTables(os)),
});

/**
 * Builds every profile: each current OS release compliant, and on it each facet alone and a few
 * pairs; outdated releases.
 */
export function buildProfiles(): ProfileCatalogue {
  const profiles: Profile[] = [];
  const weights = new Map<Profile, number>();
  const add = (platform: SimPlatform, os: OsRelease, facets: string[], weight: number): void => {
    const sorted = [...facets].sort();
    const tables = clone(baseTables(platform, os));
    for (const f of sorted) FACETS[platform][f]?.(tables);
    const all = os.outdated ? [...sorted, 'os_outdated'].sort() : sorted;
    const p: Profile = {
      id: profiles.length,
      name: `${platform}-${os.key}${all.length ? '+' + all.join('+') : ''}`,
      platform,
      os: os.label,
      facets: all,
      tables,
    };
    profiles.push(p);
    weights.set(p, weight);
  };
  for (const platform of ['darwin', 'windows', 'linux'] as const) {
    const releases = OS_RELEASES[platform];
    const facetNames = Object.keys(FACETS[platform]);
    for (const os of releases) {
      if (os.outdated) {
        add(platform, os, [], os.weight);
        continue;
      }
      add(platform, os, [], os.weight);
      for (const f of facetNames) add(platform, os, [f], os.weight / 10);
    }
    // A couple of hosts in really bad shape, on the newest release.
    const newest = releases[0];
    if (newest) add(platform, newest, facetNames.filter((f) => f !== 'encryption_in_progress').slice(0, 3), 1);
  }
  const byName = new Map(profiles.map((p) => [p.name, p] as const));
  const find = (platform: SimPlatform, osKey: string, facets: readonly string[]): Profile | undefined => {
    const own = facets.filter((f) => f !== 'os_outdated').sort();
    const outdated = OS_RELEASES[platform].find((o) => o.key === osKey)?.outdated ?? false;
    const all = outdated ? [...own, 'os_outdated'].sort() : own;
    return byName.get(`${platform}-${osKey}${all.length ? '+' + all.join('+') : ''}`);
  };
  const compliantOf = (platform: SimPlatform): Array<readonly [Profile, number]> =>
    profiles
      .filter((p) => p.platform === platform && p.facets.length === 0)
      .map((p) => [p, weights.get(p) ?? 1] as const);
  const failingOf = (platform: SimPlatform): Array<readonly [Profile, number]> =>
    profiles
      .filter((p) => p.platform === platform && p.facets.length > 0)
      .map((p) => [p, weights.get(p) ?? 1] as const);
  const fixed = (p: Profile): Profile => {
    const osKey = osKeyOf(p);
    const outdated = p.facets.includes('os_outdated');
    const target = outdated ? (OS_RELEASES[p.platform][0]?.key ?? osKey) : osKey;
    return find(p.platform, target, []) ?? p;
  };
  return {
    profiles,
    byName,
    find,
    fixed,
    compliant: compliantOf,
    failing: failingOf,
  };
}

/** The OS release key of a profile (e.g. `15.2`, `22631.4602`, `ubuntu-22.4`). */
export function osKeyOf(p: Profile): string {
  return p.name.slice(p.platform.length + 1).split('+')[0] ?? '';
}
