/** shared/ttl-cache: entries expire after their time to live, the oldest goes first when full. */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { TtlCache } from '../../server/shared/ttl-cache.js';

describe('shared/TtlCache', () => {
  it('returns an entry until its time to live has passed, then forgets it', () => {
    const clock = new ManualClock(1000);
    const cache = new TtlCache<string, number>(500, () => clock.now());
    cache.set('a', 1);
    clock.advance(499);
    expect(cache.get('a')).to.equal(1);
    clock.advance(1); // expiry is exclusive: at exactly ttl the entry is gone
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('restarts the time to live when an entry is set again', () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<string, string>(100, () => clock.now());
    cache.set('k', 'one');
    clock.advance(80);
    cache.set('k', 'two');
    clock.advance(80);
    expect(cache.get('k')).to.equal('two');
  });

  it('evicts the oldest entry when full', () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<number, number>(1000, () => clock.now(), 3);
    for (const k of [1, 2, 3, 4]) cache.set(k, k * 10);
    expect(cache.size).to.equal(3);
    expect([1, 2, 3, 4].map((k) => cache.get(k))).to.deep.equal([undefined, 20, 30, 40]);
  });

  it('delete() and clear() invalidate entries', () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<string, number>(1000, () => clock.now());
    cache.set('a', 1);
    cache.set('b', 2);
    cache.delete('a');
    expect([cache.get('a'), cache.get('b'), cache.size]).to.deep.equal([undefined, 2, 1]);
    cache.clear();
    expect([cache.get('b'), cache.size]).to.deep.equal([undefined, 0]);
  });
});
