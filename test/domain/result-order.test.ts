import { expect } from 'chai';
import { compareResultOrder, resultOrderOf } from '../../server/domain/types.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('domain/types result order', () => {
  it('resultOrderOf caps the observed second by the second of arrival', () => {
    expect(resultOrderOf({ observedAt: T0 + 5000, updatedAt: T0 + 300, seq: 4 })).to.deep.equal({
      second: T0 / 1000,
      seq: 4,
    });
    expect(resultOrderOf({ observedAt: T0 - 2000, updatedAt: T0 + 300, seq: 4 })).to.deep.equal({
      second: T0 / 1000 - 2,
      seq: 4,
    });
  });

  const cases: Array<[string, [number, number], [number, number], 'older' | 'newer' | 'same']> = [
    ['an earlier second, whatever its seq', [10, 99], [11, 1], 'older'],
    ['a later second, whatever its seq', [12, 1], [11, 99], 'newer'],
    ['the same second, arrived earlier', [11, 4], [11, 5], 'older'],
    ['the same second, arrived later', [11, 6], [11, 5], 'newer'],
    ['the same result', [11, 5], [11, 5], 'same'],
    ['the same second against an unknown seq', [11, 6], [11, NaN], 'same'],
    ['anything against nothing observed', [11, 1], [NaN, NaN], 'newer'],
    ['nothing observed against anything', [NaN, NaN], [11, 1], 'older'],
  ];
  for (const [when, [as, aq], [bs, bq], want] of cases) {
    it(`compareResultOrder says ${want} for ${when}`, () => {
      const c = compareResultOrder({ second: as, seq: aq }, { second: bs, seq: bq });
      expect(c < 0 ? 'older' : c > 0 ? 'newer' : 'same').to.equal(want);
    });
  }
});
