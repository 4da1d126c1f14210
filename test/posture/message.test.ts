import { expect } from 'chai';
import { interpolate, MAX_VALUE_CHARS, MISSING_VALUE } from '../../server/posture/message.js';

describe('interpolate', () => {
  const cases: Array<[string, string, Record<string, string> | undefined, string]> = [
    [
      'a column of the first row',
      'Your macOS is {{version}}; we need 12.4 or later.',
      { version: '12.1' },
      'Your macOS is 12.1; we need 12.4 or later.',
    ],
    ['spaces inside the braces', 'Build {{ build }}.', { build: '23E224' }, 'Build 23E224.'],
    ['a missing column', 'Your macOS is {{version}}.', { name: 'macOS' }, `Your macOS is ${MISSING_VALUE}.`],
    ['no row at all', 'Your macOS is {{version}}.', undefined, `Your macOS is ${MISSING_VALUE}.`],
    ['no placeholders', 'Turn on FileVault.', { version: '1' }, 'Turn on FileVault.'],
    ['markup in values (escaped as Markdown text)', 'Name: {{n}}', { n: '<b>x</b>' }, 'Name: \\<b\\>x\\</b\\>'],
    ['a Markdown link in a value', '{{n}}', { n: '[x](https://e.example)' }, '\\[x\\](https://e.example)'],
    ['newlines and a list marker in a value', '{{n}}', { n: '1. a\n2. b' }, '1\\. a 2. b'],
    ['a version: dots stay as they are', '{{v}}', { v: '12.1' }, '12.1'],
    ['parentheses stay as they are', '{{v}}', { v: 'Ubuntu 22.04 (Jammy)' }, 'Ubuntu 22.04 (Jammy)'],
    ['an empty value', 'v={{v}}.', { v: '' }, 'v=.'],
    ['an inherited property name', '{{constructor}}', {}, MISSING_VALUE],
  ];
  for (const [when, tpl, row, want] of cases) {
    it(`interpolates ${when}`, () => expect(interpolate(tpl, row)).to.equal(want));
  }
  it('cuts very long values', () => {
    const out = interpolate('{{v}}', { v: 'x'.repeat(5000) });
    expect(out.length).to.equal(MAX_VALUE_CHARS + 1);
  });
});
