/**
 * Version strings as osquery reports them (`14.4.1 (23E224)`, `5.15.0-91-generic`, `22.04.3 LTS`):
 * leading whitespace and an optional `v`/`V` skipped, then the longest run of `digits(.digits)*`;
 * components compared numerically left to right, a missing one counting as 0. Used by the posture
 * helpers `version_compare`/`version_at_least` (posture/cel.ts) and by the osquery surface.
 */

const VERSION_RE = /^\s*[vV]?(\d+(?:\.\d+)*)/;

/** The numeric components of a version string as digit strings without leading zeros; undefined if none. */
export function parseVersion(text: string): string[] | undefined {
  const m = VERSION_RE.exec(text);
  if (!m?.[1]) return undefined;
  return m[1].split('.').map((c) => c.replace(/^0+(?=\d)/, ''));
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two version strings as documented above; throws on a string with no leading number. */
export function versionCompare(a: string, b: string): -1 | 0 | 1 {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (!va) throw new Error(`version_compare: "${a}" is not a version`);
  if (!vb) throw new Error(`version_compare: "${b}" is not a version`);
  const n = Math.max(va.length, vb.length);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(va[i] ?? '0', vb[i] ?? '0');
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export const versionAtLeast = (a: string, b: string): boolean => versionCompare(a, b) >= 0;
