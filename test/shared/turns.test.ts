/** Work let go a few per turn of the event loop (shared/turns.ts), what arrives meanwhile served between. */
import { expect } from 'chai';
import { turnQueue } from '../../server/shared/turns.js';

describe('turnQueue', () => {
  it('lets waiters go in order, perTurn per turn, with what was queued meanwhile served between turns', async () => {
    const order: string[] = [];
    const turn = turnQueue(2, () => order.push('before turn'));
    const work = [1, 2, 3, 4, 5].map(async (n) => {
      await turn();
      order.push(`work ${n}`);
      // a request read while work 1 ran: served before the next turn, not after all five
      if (n === 1) setImmediate(() => order.push('read meanwhile'));
    });
    await Promise.all(work);
    expect(order).to.deep.equal([
      ...['before turn', 'work 1', 'work 2'],
      'read meanwhile',
      ...['before turn', 'work 3', 'work 4'],
      ...['before turn', 'work 5'],
    ]);
  });

  it('starts over after the queue runs dry, and keeps its order past many waiters', async () => {
    const turn = turnQueue(8);
    await turn();
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 3000 }, async (_, n) => {
        await turn();
        seen.push(n);
      }),
    );
    expect(seen).to.deep.equal(Array.from({ length: 3000 }, (_, n) => n));
  });
});
