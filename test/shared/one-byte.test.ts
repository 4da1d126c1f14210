/** shared/one-byte: Latin-1 text in V8's one-byte form (observed with test/support/byte-form.ts). */
import { expect } from 'chai';
import { oneByte } from '../../server/shared/one-byte.js';
import { byteForm } from '../support/byte-form.js';

describe('shared/one-byte', () => {
  // a text with one character beyond Latin-1: every string cut from it is two-byte
  const wide = 'resource-name, then … and the rest';
  const cut = wide.slice(0, 'resource-name'.length);

  it('a string cut from a text with a wide character is two-byte, and oneByte gives the same text one-byte', () => {
    expect(byteForm(cut)).to.equal('two');
    const narrow = oneByte(cut);
    expect(narrow).to.equal('resource-name');
    expect(byteForm(narrow)).to.equal('one');
  });

  it('keeps Latin-1 characters beyond ASCII, and leaves text with a wider character as it is', () => {
    const latin = `${wide.slice(0, 8)}§é`;
    expect(byteForm(latin)).to.equal('two');
    expect(byteForm(oneByte(latin))).to.equal('one');
    expect(oneByte(latin)).to.equal('resource§é');
    expect(oneByte(wide)).to.equal(wide);
    expect(byteForm(oneByte(wide))).to.equal('two');
    expect(oneByte('')).to.equal('');
  });
});
