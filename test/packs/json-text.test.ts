import { expect } from 'chai';
import { findJsonSyntaxError } from '../../server/packs/json-syntax.js';
import { parseConfigText, stripConfigComments } from '../../server/packs/json-text.js';

describe('stripConfigComments', () => {
  it('drops full-line # and // comments, also when indented, and keeps the JSON', () => {
    const text = '{\n  // a comment\n  # another\n  "a": 1,\n\t//\t tabbed\n  "b": "x"\n}\n';
    const { text: out } = stripConfigComments(text);
    expect(out).to.not.include('comment');
    expect(out).to.not.include('another');
    expect(out).to.not.include('tabbed');
    expect(JSON.parse(out)).to.deep.equal({ a: 1, b: 'x' });
  });

  it('joins backslash-newline continuations before looking for comments', () => {
    const text = '{"query": "select * from launchd where \\\n        name = \'x\' OR \\\n        name = \'y\'"}';
    const parsed = parseConfigText(text);
    expect(parsed.ok).to.equal(true);
    if (parsed.ok) {
      expect(parsed.value).to.deep.equal({
        query: "select * from launchd where         name = 'x' OR         name = 'y'",
      });
    }
  });

  it('leaves a comment after JSON on the same line in place, which makes the JSON invalid (as in osquery)', () => {
    const parsed = parseConfigText('{\n  "a": 1 // trailing\n}\n');
    expect(parsed.ok).to.equal(false);
    if (!parsed.ok) {
      expect(parsed.line).to.equal(2);
      expect(parsed.column).to.equal(10);
    }
  });

  it('maps every kept character back to its offset in the original text', () => {
    const original = '# c\n  {"a":\\\n 1}\n';
    const s = stripConfigComments(original);
    for (let i = 0; i < s.text.length; i++) {
      const ch = s.text[i];
      if (ch !== '\n') expect(original[s.origin[i] ?? -1]).to.equal(ch);
    }
  });
});

describe('parseConfigText', () => {
  it('reports the line and column of a syntax error in the original text, comments included', () => {
    const text = '{\n  // comment\n  "queries": {\n    "a": {"query": "select 1",}\n  }\n}\n';
    const parsed = parseConfigText(text);
    expect(parsed.ok).to.equal(false);
    if (!parsed.ok) {
      expect(parsed.line).to.equal(4);
      expect(parsed.column).to.equal(31);
      expect(parsed.message).to.include('trailing comma');
    }
  });

  it('locates an unterminated document at its end', () => {
    const parsed = parseConfigText('{\n "a": [1, 2\n');
    expect(parsed.ok).to.equal(false);
    if (!parsed.ok) expect(parsed.line).to.be.greaterThan(1);
  });
});

describe('findJsonSyntaxError', () => {
  it('accepts valid JSON and pinpoints common mistakes', () => {
    expect(findJsonSyntaxError('{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]}')).to.equal(undefined);
    expect(findJsonSyntaxError('{a: 1}')?.offset).to.equal(1);
    expect(findJsonSyntaxError('{"a": 1 "b": 2}')?.message).to.include("expected ',' or '}'");
    expect(findJsonSyntaxError('[1,]')?.message).to.include('trailing comma');
    expect(findJsonSyntaxError('{"a": "line\nbreak"}')?.message).to.include('control character');
    expect(findJsonSyntaxError('{} ,')?.message).to.include('after the end');
  });
});
