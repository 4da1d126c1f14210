import { expect } from 'chai';
import { createInterner } from '../../server/shared/intern.js';

describe('createInterner', () => {
  it('answers the same text for every value, pooled or past the bound', () => {
    const intern = createInterner(2);
    const values = ['darwin', 'Apple Inc.', 'darwin', '5.12.1', 'Zoë’s', 'Apple Inc.', '5.12.1'];
    // built at run time, so the inputs are not the literals' own strings
    expect(values.map((v) => intern([...v].join('')))).to.deep.equal(values);
  });
});
