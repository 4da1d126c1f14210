/** The verdict endpoint's query reader agrees with URLSearchParams on every query string (property test). */
import { expect } from 'chai';
import fc from 'fast-check';
import { queryValue } from '../../server/gateway/query.js';

const NAMES = ['serial', 'resource', 'user'];

describe('verdict query parameters', () => {
  it('give what URLSearchParams gives for the usual queries', () => {
    const q = 'serial=C02%2FX+Y&resource=prod-db&user=Alice%40Example.com&serial=second&empty=&bare';
    for (const name of [...NAMES, 'empty', 'bare', 'missing'])
      expect(queryValue(q, name), name).to.equal(new URLSearchParams(q).get(name));
  });

  it('give what URLSearchParams gives for malformed escapes, encoded names and odd separators', () => {
    const odd = ['user=%E0%A4%A', 'user=%zz', 'us%65r=x', 'serial+=a&serial=b', '&&user==x=y&', '=&user', 'user'];
    for (const q of [...odd, '?user=a', '??user=b'])
      for (const name of NAMES) expect(queryValue(q, name), `${q} ${name}`).to.equal(new URLSearchParams(q).get(name));
  });

  it('give what URLSearchParams gives for any query string', () => {
    const piece = fc.oneof(
      fc.constantFrom(...NAMES, '=', '&', '?', '%', '+', '%40', '%2', '%E2%9C%93', '%FF', 'a', ' ', 'é'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (parts) => {
        const q = parts.join('');
        for (const name of NAMES) expect(queryValue(q, name)).to.equal(new URLSearchParams(q).get(name));
      }),
      { numRuns: 3000 },
    );
  });
});
