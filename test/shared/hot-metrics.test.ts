/**
 * The decision path's metrics (shared/hot-metrics.ts) expose exactly what prom-client's own counter and
 * histogram would: the same text for the same observations, counts carried across scrapes.
 */
import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { createHotCounter, createHotHistogram } from '../../server/shared/hot-metrics.js';

const BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];

describe('hot-path metrics', () => {
  it('a histogram scrapes as the prom-client histogram given the same values, bounds included', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = createHotHistogram({ name: 'x_seconds', help: 'h', buckets: BUCKETS, registry: ours });
    const ref = new Histogram({ name: 'x_seconds', help: 'h', buckets: BUCKETS, registers: [theirs] });
    // below the first bound, on bounds (le is inclusive), between, and above the last
    for (const v of [0.000001, 0.00001, 0.00005, 0.0003, 0.001, 0.02, 0.0000123, 0.01]) {
      h.observe(v);
      ref.observe(v);
    }
    expect(await ours.metrics()).to.equal(await theirs.metrics());
    expect(await ours.metrics()).to.contain('x_seconds_bucket{le="+Inf"} 8');
  });

  it('an empty histogram scrapes as prom-client writes an unobserved one', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    createHotHistogram({ name: 'y_seconds', help: 'h', buckets: BUCKETS, registry: ours });
    const ref = new Histogram({ name: 'y_seconds', help: 'h', buckets: BUCKETS, registers: [theirs] });
    ref.zero({});
    expect(await ours.metrics()).to.equal(await theirs.metrics());
  });

  it('a counter scrapes as the prom-client counter, and keeps counting across scrapes', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const c = createHotCounter({ name: 'd_total', help: 'c', labelNames: ['resource', 'decision'], registry: ours });
    const ref = new Counter({ name: 'd_total', help: 'c', labelNames: ['resource', 'decision'], registers: [theirs] });
    const incs: Array<[string, string]> = [
      ['wiki', 'allow'],
      ['wiki', 'allow'],
      ['prod-db', 'deny'],
      ['wiki', 'deny'], // shares its first label with a set counted before
      ['prod-db', 'allow'],
    ];
    for (const [resource, decision] of incs) {
      c.inc(resource, decision);
      ref.inc({ resource, decision });
    }
    expect(await ours.metrics()).to.equal(await theirs.metrics());
    c.inc('wiki', 'allow');
    ref.inc({ resource: 'wiki', decision: 'allow' });
    const text = await ours.metrics();
    expect(text).to.equal(await theirs.metrics());
    expect(text).to.contain('d_total{resource="wiki",decision="allow"} 3');
  });
});
