/** A small latency histogram (log-spaced buckets, ~2% resolution) for millions of samples in constant memory. */
export interface Histogram {
  record(ms: number): void;
  count(): number;
  /** Percentile in ms (p in 0..100); 0 when empty. */
  percentile(p: number): number;
  mean(): number;
  max(): number;
  reset(): void;
  merge(other: Histogram): void;
  /** Bucket counts, for merging. */
  buckets(): Uint32Array;
}

const MIN_MS = 0.001;
const GROWTH = 1.02;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 2;

const bucketOf = (ms: number): number => {
  if (!(ms > MIN_MS)) return 0;
  const b = Math.floor(Math.log(ms / MIN_MS) / Math.log(GROWTH)) + 1;
  return b >= BUCKETS ? BUCKETS - 1 : b;
};
const valueOf = (b: number): number => (b === 0 ? MIN_MS : MIN_MS * GROWTH ** (b - 0.5));

export function createHistogram(): Histogram {
  let counts = new Uint32Array(BUCKETS);
  let n = 0;
  let sum = 0;
  let mx = 0;
  const h: Histogram = {
    record(ms) {
      const b = bucketOf(ms);
      counts[b] = (counts[b] ?? 0) + 1;
      n++;
      sum += ms;
      if (ms > mx) mx = ms;
    },
    count: () => n,
    percentile(p) {
      if (n === 0) return 0;
      const rank = Math.max(1, Math.ceil((p / 100) * n));
      let seen = 0;
      for (let b = 0; b < BUCKETS; b++) {
        seen += counts[b] ?? 0;
        if (seen >= rank) return Math.min(valueOf(b), mx);
      }
      return mx;
    },
    mean: () => (n === 0 ? 0 : sum / n),
    max: () => mx,
    reset() {
      counts = new Uint32Array(BUCKETS);
      n = 0;
      sum = 0;
      mx = 0;
    },
    merge(other) {
      const o = other.buckets();
      for (let b = 0; b < BUCKETS; b++) counts[b] = (counts[b] ?? 0) + (o[b] ?? 0);
      n += other.count();
      sum += other.mean() * other.count();
      if (other.max() > mx) mx = other.max();
    },
    buckets: () => counts,
  };
  return h;
}
