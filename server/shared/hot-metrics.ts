/**
 * Metrics bumped on the gateway's decision path, thousands of times a second: the counts live in plain
 * maps and arrays, and prom-client sees them only when /metrics is scraped. prom-client's own `inc` and
 * `observe` build a label key (sorting and joining the label names) and validate the labels on every
 * call: about 2.5 µs of the main thread per decision, a tenth of a verdict's cost. The exposition is the
 * same: a prom-client counter (its labels as before), and a histogram in the text format prom-client
 * writes for its own (`_bucket{le}` cumulative counts, `+Inf`, `_sum`, `_count`).
 */
import { Counter, type Registry } from 'prom-client';

export interface HotCounter {
  /** Adds one for the label values, in the order of `labelNames`. */
  inc(...values: string[]): void;
}

export function createHotCounter<L extends string>(opts: {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}): HotCounter {
  /**
   * Per label set: its labels as prom-client takes them, and the count not yet handed over; found through
   * one map per label, by value (the strings a request already has, whose hashes V8 keeps on them: no
   * joined key to build, flatten and hash per call).
   */
  interface Pending {
    labels: Record<L, string>;
    n: number;
  }
  type Level = Map<string, Level | Pending>;
  const root: Level = new Map();
  const all: Pending[] = [];
  const last = opts.labelNames.length - 1;
  // registered with the registry, which scrapes it (collect hands the pending counts over first)
  new Counter<L>({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames,
    registers: [opts.registry],
    collect() {
      for (const p of all) {
        if (p.n === 0) continue;
        this.inc(p.labels, p.n);
        p.n = 0;
      }
    },
  });
  function added(values: readonly string[]): Pending {
    const labels = {} as Record<L, string>;
    opts.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
    const p = { labels, n: 0 };
    all.push(p);
    return p;
  }
  return {
    inc(...values) {
      let level = root;
      for (let i = 0; i < last; i++) {
        const v = values[i] ?? '';
        let next = level.get(v) as Level | undefined;
        if (next === undefined) level.set(v, (next = new Map()));
        level = next;
      }
      const v = values[last] ?? '';
      let p = level.get(v) as Pending | undefined;
      if (p === undefined) level.set(v, (p = added(values)));
      p.n++;
    },
  };
}

export interface HotHistogram {
  observe(value: number): void;
}

/** An unlabelled histogram: one bucket search and three additions per observation. */
export function createHotHistogram(opts: {
  name: string;
  help: string;
  buckets: readonly number[];
  registry: Registry;
}): HotHistogram {
  const bounds = [...opts.buckets].sort((a, b) => a - b);
  const counts = new Float64Array(bounds.length + 1); // the last slot: above every bound (+Inf only)
  let sum = 0;
  let count = 0;
  opts.registry.registerMetric({
    name: opts.name,
    get: () => {
      let cumulative = 0;
      const values: Array<{ labels: Record<string, number | string>; value: number; metricName: string }> = bounds.map(
        (le, i) => {
          cumulative += counts[i] ?? 0;
          return { labels: { le }, value: cumulative, metricName: `${opts.name}_bucket` };
        },
      );
      values.push({ labels: { le: '+Inf' }, value: count, metricName: `${opts.name}_bucket` });
      return Promise.resolve({
        name: opts.name,
        help: opts.help,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...values,
          { labels: {}, value: sum, metricName: `${opts.name}_sum` },
          { labels: {}, value: count, metricName: `${opts.name}_count` },
        ],
      });
    },
    // prom-client's registry takes any object with a name and get(); its type names only its own classes
  } as unknown as Parameters<Registry['registerMetric']>[0]);
  return {
    observe(value) {
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      counts[i] = (counts[i] ?? 0) + 1;
      sum += value;
      count++;
    },
  };
}
