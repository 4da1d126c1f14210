/** domain/types effectiveObservedAt: the agent's run time, capped by arrival when arrival is known. */
import { expect } from 'chai';
import { effectiveObservedAt } from '../../server/domain/types.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('domain/types effectiveObservedAt', () => {
  it('is the run time when it is before the arrival', () => {
    expect(effectiveObservedAt({ observedAt: T0 - 5000, updatedAt: T0 })).to.equal(T0 - 5000);
  });

  it('is the arrival time when the agent stamped the future (clock ahead)', () => {
    expect(effectiveObservedAt({ observedAt: T0 + 3_600_000, updatedAt: T0 })).to.equal(T0);
  });

  it('is the run time when the arrival is not known (0 or not finite)', () => {
    for (const updatedAt of [0, -1, NaN, Infinity]) {
      expect(effectiveObservedAt({ observedAt: T0 + 1000, updatedAt }), String(updatedAt)).to.equal(T0 + 1000);
    }
  });
});
