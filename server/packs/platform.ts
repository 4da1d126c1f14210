/**
 * osquery's client-side platform filter for packs and pack queries (osquery/core/system.cpp
 * `checkPlatform()`), evaluated on the server for a given host.
 *
 * The filter is a substring test on the pack's `platform` string:
 * - empty or "null" → every platform;
 * - contains "any" or "all" → every platform (so does anything containing those letters, e.g.
 *   "install": osquery's own quirk, kept);
 * - contains "linux", "ubuntu" or "centos" → Linux hosts;
 * - contains "posix" → Linux, macOS and FreeBSD hosts;
 * - otherwise matches when it contains the host's SDK platform name: "darwin", "linux", "windows",
 *   "freebsd". Comma lists such as "darwin,linux" therefore work.
 */
import type { Host, Platform } from '../domain/types.js';

/** Platform families checkPlatform can tell apart. */
export const PLATFORM_FAMILIES = ['darwin', 'linux', 'windows', 'freebsd'] as const;
export type PlatformFamily = (typeof PLATFORM_FAMILIES)[number];

const LINUX_OS_PLATFORMS = [
  'linux',
  'ubuntu',
  'debian',
  'centos',
  'rhel',
  'fedora',
  'amzn',
  'arch',
  'manjaro',
  'gentoo',
  'suse',
  'opensuse',
  'sles',
  'rocky',
  'almalinux',
  'ol',
  'oracle',
  'alpine',
  'nixos',
  'pop',
  'linuxmint',
  'kali',
  'raspbian',
  'elementary',
  'zorin',
  'chromeos',
  'scientific',
  'clear-linux-os',
  'endeavouros',
  'void',
];

/**
 * The platform family of a host: `host.platform` when known, else derived from `os_version.platform`
 * (osPlatform: "ubuntu", "rhel", "darwin", "windows", …).
 */
export function familyOf(host: Pick<Host, 'platform' | 'osPlatform'>): PlatformFamily | undefined {
  if (host.platform !== 'unknown') return host.platform;
  const os = host.osPlatform.trim().toLowerCase();
  if (os === '') return undefined;
  if (os === 'darwin' || os === 'macos' || os === 'osx') return 'darwin';
  if (os.startsWith('windows')) return 'windows';
  if (os === 'freebsd') return 'freebsd';
  if (LINUX_OS_PLATFORMS.includes(os) || os.includes('linux')) return 'linux';
  return undefined;
}

/**
 * checkPlatform() for a host of the given family (undefined: a host we cannot place matches only
 * "any"/"all"/empty).
 */
export function matchesPlatformFamily(platform: string | undefined, family: PlatformFamily | undefined): boolean {
  if (platform === undefined || platform === '' || platform === 'null') return true;
  if (platform.includes('any') || platform.includes('all')) return true;
  if (family === undefined) return false;
  const linuxType = platform.includes('linux') || platform.includes('ubuntu') || platform.includes('centos');
  if (linuxType && family === 'linux') return true;
  if (platform.includes('posix') && family !== 'windows') return true;
  return platform.includes(family);
}

/** osquery's checkPlatform() as the host's agent would evaluate it. */
export function checkPlatform(platform: string | undefined, host: Pick<Host, 'platform' | 'osPlatform'>): boolean {
  return matchesPlatformFamily(platform, familyOf(host));
}

/** The families a platform string selects. */
export function familiesOf(platform: string | undefined): PlatformFamily[] {
  return PLATFORM_FAMILIES.filter((f) => matchesPlatformFamily(platform, f));
}

/**
 * One platform string equivalent to "matches `a` AND matches `b`" (a pack's platform and its query's),
 * as a comma list of families; undefined when both allow everything; "none" when nothing is left.
 */
export function intersectPlatforms(a: string | undefined, b: string | undefined): string | undefined {
  if (b === undefined || b === '' || b === 'null') return a === '' || a === 'null' ? undefined : a;
  if (a === undefined || a === '' || a === 'null') return b;
  const both = familiesOf(a).filter((f) => familiesOf(b).includes(f));
  if (both.length === PLATFORM_FAMILIES.length) return undefined;
  return both.length === 0 ? 'none' : both.join(',');
}

/** Narrow a family to the domain's Platform type. */
export const platformOfFamily = (f: PlatformFamily | undefined): Platform => f ?? 'unknown';
