/**
 * One copy of each repeated value. A database read gives every row its own strings, so 100,000 hosts
 * held in memory (the node-key cache, the posture records) held 100,000 copies of "darwin", "Apple Inc.",
 * "5.12.1" and the like: about 24 MB of a 374 MB heap in a snapshot of a 100k server. The pool is
 * bounded: past `max` distinct values a new one is returned as it is, so unusual variety costs what it
 * cost before and nothing grows without limit. Values are never removed (they are few and small).
 */
export function createInterner(max = 10_000): (s: string) => string {
  const pool = new Map<string, string>();
  return (s) => {
    const hit = pool.get(s);
    if (hit !== undefined) return hit;
    if (pool.size < max) pool.set(s, s);
    return s;
  };
}
