import { expect } from 'chai';
import fc from 'fast-check';
import { isoTime, isoTimeFlat } from '../../server/posture/iso-time.js';

describe('isoTime', () => {
  it('formats exactly like Date.prototype.toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        expect(isoTime(ms)).to.equal(new Date(ms).toISOString());
        expect(isoTimeFlat(ms)).to.equal(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
  });
  const edges = [0, 951782400000, 951868800000, 4107542400000, 1767225599999, 253402300799999];
  for (const ms of edges)
    it(`formats ${new Date(ms).toISOString()}`, () => expect(isoTime(ms)).to.equal(new Date(ms).toISOString()));
  it('answers each time right when times share a cache slot, and again from the cache', () => {
    const t = 1_764_590_400_123;
    const times = [t, t + 4096, t, t + 2 * 4096, t + 4096, t];
    expect(times.map(isoTime)).to.deep.equal(times.map((ms) => new Date(ms).toISOString()));
  });
  it('falls back to Date outside 1970–9999 and for fractions', () => {
    expect(isoTime(-1)).to.equal('1969-12-31T23:59:59.999Z');
    expect(isoTime(1.5)).to.equal('1970-01-01T00:00:00.001Z');
    expect(isoTimeFlat(-1)).to.equal('1969-12-31T23:59:59.999Z');
  });
});
