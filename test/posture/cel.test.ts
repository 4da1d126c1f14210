import { expect } from 'chai';
import { AppError } from '../../server/shared/errors.js';
import { compilePass } from '../../server/posture/cel.js';
import { parseVersion, versionAtLeast, versionCompare } from '../../server/shared/version.js';

describe('versionCompare', () => {
  const cases: Array<[string, string, -1 | 0 | 1]> = [
    ['14.4.1 (23E224)', '14.4', 1],
    ['14.4', '14.4.0', 0],
    ['12.1', '12.4', -1],
    ['10.0.22631', '10.0.19045', 1],
    ['10.0.9999', '10.0.10000', -1],
    ['5.15.0-91-generic', '5.15', 0],
    ['22.04.3 LTS (Jammy Jellyfish)', '22.4.3', 0],
    ['v2.0', '1.99.99', 1],
    ['  3.010', '3.9', 1],
    ['123456789012345678901.1', '123456789012345678901.0', 1],
  ];
  for (const [a, b, want] of cases) {
    it(`returns ${want} for "${a}" vs "${b}"`, () => {
      expect(versionCompare(a, b)).to.equal(want);
      expect(versionCompare(b, a)).to.equal(want === 0 ? 0 : -want);
    });
  }
  it('throws when a side has no leading number', () => {
    expect(() => versionCompare('unknown', '1.0')).to.throw(/not a version/);
    expect(() => versionCompare('1.0', '')).to.throw(/not a version/);
  });
  it('parses the leading dotted number and ignores the rest', () => {
    expect(parseVersion('14.4.1 (23E224)')).to.deep.equal(['14', '4', '1']);
    expect(parseVersion('no digits')).to.equal(undefined);
    expect(versionAtLeast('14.4.1', '14.4')).to.equal(true);
  });
});

describe('compilePass', () => {
  it('evaluates version_at_least over rows', () => {
    const p = compilePass('size(rows) > 0 && version_at_least(rows[0].version, "12.4")', 'os_version');
    expect(p([{ version: '14.4.1 (23E224)' }])).to.equal(true);
    expect(p([{ version: '12.1' }])).to.equal(false);
    expect(p([])).to.equal(false);
  });
  it('evaluates version_compare as an int', () => {
    const p = compilePass('version_compare(rows[0].version, "10.0.19045") >= 0', 'win_build');
    expect(p([{ version: '10.0.22631' }])).to.equal(true);
    expect(p([{ version: '10.0.17763' }])).to.equal(false);
  });
  it('supports macros over all rows', () => {
    const p = compilePass('rows.all(r, r.enabled == "1")', 'fw');
    expect(p([{ enabled: '1' }, { enabled: '1' }])).to.equal(true);
    expect(p([{ enabled: '1' }, { enabled: '0' }])).to.equal(false);
  });
  const bad: Array<[string, string, RegExp]> = [
    ['a syntax error', 'rows +', /does not parse/],
    ['an unknown variable', 'row.size() > 0', /invalid/],
    ['an unknown function', 'newer_than(rows[0].v, "1")', /invalid/],
    ['a non-bool result', 'size(rows)', /must return bool/],
    ['a type error', 'rows[0].version + 1 > 2', /invalid/],
  ];
  for (const [what, expr, re] of bad) {
    it(`throws AppError(invalid) naming the check for ${what}`, () => {
      let caught: unknown;
      try {
        compilePass(expr, 'my_check');
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(AppError);
      const err = caught as AppError;
      expect(err.code).to.equal('invalid');
      expect(err.message).to.include('"my_check"').and.match(re);
    });
  }
  it('throws at evaluation when the expression cannot be evaluated', () => {
    const p = compilePass('version_at_least(rows[0].version, "12.4")', 'os');
    expect(() => p([])).to.throw();
    expect(() => p([{ version: 'garbage' }])).to.throw(/not a version/);
  });
});
