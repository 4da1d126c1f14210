/**
 * Two small owners of the control plane: the write batcher (control/batch.ts) that turns a burst of
 * enrollments into one store write, and the last-seen registry (control/last-seen.ts), the one source
 * of `last_seen_at`.
 */
import { expect } from 'chai';
import { createBatcher } from '../../server/control/batch.js';
import { createLastSeen } from '../../server/control/last-seen.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('createBatcher', () => {
  it('writes what arrives within one window in one call, and resolves every caller with that write', async () => {
    const writes: number[][] = [];
    const b = createBatcher<number>(
      async (items) => {
        writes.push(items);
      },
      { windowMs: 20 },
    );
    const first = [b.add([1, 2]), b.add([3]), b.add([])];
    await new Promise((r) => setTimeout(r, 5));
    first.push(b.add([4]));
    await Promise.all(first);
    const second = b.add([5]);
    await second;
    expect(writes).to.deep.equal([[1, 2, 3, 4], [5]]);
  });

  it('writes at once when a batch reaches maxItems', async () => {
    const writes: number[][] = [];
    const b = createBatcher<number>(
      async (items) => {
        writes.push(items);
      },
      { windowMs: 60_000, maxItems: 3 },
    );
    await Promise.all([b.add([1, 2]), b.add([3])]);
    expect(writes).to.deep.equal([[1, 2, 3]]);
  });

  it('rejects every caller of a failed write, and the next batch starts over', async () => {
    let fail = true;
    const b = createBatcher<number>(
      async () => {
        if (fail) throw new Error('disk full');
      },
      { windowMs: 1 },
    );
    const results = await Promise.allSettled([b.add([1]), b.add([2])]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    fail = false;
    await b.add([3]);
  });
});

describe('createLastSeen', () => {
  function registry() {
    const touched: Array<Array<{ id: number; at: number }>> = [];
    const seen = createLastSeen({
      hosts: {
        touch: async (batch) => {
          touched.push([...batch]);
        },
      },
    });
    return { seen, touched };
  }

  it('keeps the latest time per host (never moving back) and writes only what was marked since a flush', async () => {
    const { seen, touched } = registry();
    seen.load([
      { id: 1, lastSeenAt: T0 },
      { id: 2, lastSeenAt: T0 + 5 },
    ]);
    expect(await seen.flush(), 'loaded times are the store’s already').to.equal(0);
    seen.mark(1, T0 + 10);
    seen.mark(1, T0 + 3);
    seen.mark(2, T0 + 1);
    expect([seen.get(1), seen.get(2), seen.get(3)]).to.deep.equal([T0 + 10, T0 + 5, undefined]);
    expect(await seen.flush()).to.equal(1);
    expect(touched).to.deep.equal([[{ id: 1, at: T0 + 10 }]]);
    expect(await seen.flush()).to.equal(0);
  });

  it('keeps any host id: past the first thousand, far apart, and beyond the indexed range', () => {
    const { seen } = registry();
    const ids = [1, 1023, 1024, 5000, 250_001, 2 ** 24 - 1, 2 ** 24, 2 ** 40];
    ids.forEach((id, i) => seen.mark(id, T0 + i));
    expect(ids.map((id) => seen.get(id))).to.deep.equal(ids.map((_, i) => T0 + i));
    expect([seen.get(2), seen.get(4999), seen.get(2 ** 24 + 1)]).to.deep.equal([undefined, undefined, undefined]);
    seen.forget(5000);
    seen.forget(2 ** 40);
    expect([seen.get(5000), seen.get(2 ** 40), seen.get(250_001)]).to.deep.equal([undefined, undefined, T0 + 4]);
  });

  it('answers for a host record with the later of its own time and the registry’s', () => {
    const { seen } = registry();
    seen.mark(7, T0 + 1000);
    expect(seen.of({ id: 7, lastSeenAt: T0 })).to.equal(T0 + 1000);
    expect(seen.of({ id: 7, lastSeenAt: T0 + 2000 })).to.equal(T0 + 2000);
    expect(seen.of({ id: 8, lastSeenAt: T0 })).to.equal(T0);
  });

  it('forgets an unenrolled host, and keeps the times of a failed write for the next flush', async () => {
    let fail = true;
    const touched: Array<{ id: number; at: number }> = [];
    const seen = createLastSeen({
      hosts: {
        touch: async (batch) => {
          if (fail) throw new Error('busy');
          touched.push(...batch);
        },
      },
    });
    seen.mark(1, T0);
    seen.mark(2, T0);
    seen.forget(2);
    expect(seen.get(2)).to.equal(undefined);
    let failed = false;
    await seen.flush().catch(() => (failed = true));
    expect(failed).to.equal(true);
    fail = false;
    expect(await seen.flush()).to.equal(1);
    expect(touched).to.deep.equal([{ id: 1, at: T0 }]);
  });
});
