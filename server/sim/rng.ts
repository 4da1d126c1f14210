/**
 * Deterministic randomness for the simulated fleet. Everything a host looks like is derived from
 * (seed, host index), so a host's serial and UUIDs are stable across runs and never stored.
 */

/** FNV-1a over the parts, then mixed: a 32-bit seed from any strings/numbers. */
export function hashSeed(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x2f;
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h >>> 0);
}

function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** Items with weights (weights need not sum to 1). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  /** `n` characters drawn from `alphabet`. */
  chars(alphabet: string, n: number): string;
  hex(n: number): string;
}

/** sfc32, seeded from a 32-bit value. Small, fast and good enough for test data. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  let b = mix32(seed ^ 0xdeadbeef);
  let c = mix32(seed ^ 0x41c64e6d);
  let d = 1;
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  const next = (): number => next32() / 4294967296;
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => {
    const v = items[Math.floor(next() * items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  };
  const weighted = <T>(items: ReadonlyArray<readonly [T, number]>): T => {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = next() * total;
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  };
  const chars = (alphabet: string, n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet.charAt(Math.floor(next() * alphabet.length));
    return s;
  };
  const hex = (n: number): string => chars('0123456789abcdef', n);
  return { next, int, pick, weighted, chars, hex };
}

/** A version-4-shaped UUID from the generator (random but reproducible). */
export function uuidFrom(rng: Rng, upper = false): string {
  const variant = '89ab'.charAt(rng.int(0, 3));
  const u = `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-${variant}${rng.hex(3)}-${rng.hex(12)}`;
  return upper ? u.toUpperCase() : u;
}
