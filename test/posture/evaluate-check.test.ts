import { expect } from 'chai';
import type { CheckState, LatestResult } from '../../server/domain/types.js';
import { compilePass } from '../../server/posture/cel.js';
import { evaluateCheck, MAX_EVAL_ROWS, OBSERVED_LIMITS } from '../../server/posture/evaluate-check.js';
import { checkDef, latest, MIN, T0 } from './support.js';

const osCheck = checkDef('os_version', {
  pass: 'size(rows) > 0 && version_at_least(rows[0].version, "12.4")',
  message: 'Your macOS is {{version}}; we need 12.4 or later.',
});
const osPass = compilePass(osCheck.pass ?? '', osCheck.id);
const plain = checkDef('disk_encryption', { message: 'Turn on FileVault for {{name}}.' });

describe('evaluateCheck', () => {
  describe('status', () => {
    const cases: Array<
      [string, typeof plain, ReturnType<typeof compilePass> | undefined, LatestResult | undefined, CheckState['status']]
    > = [
      ['no result has arrived', plain, undefined, undefined, 'unknown'],
      [
        'the query returned rows (default semantics)',
        plain,
        undefined,
        latest(1, 'posture/disk_encryption', [{ name: 'disk0' }], T0),
        'pass',
      ],
      [
        'the query returned no rows (default semantics)',
        plain,
        undefined,
        latest(1, 'posture/disk_encryption', [], T0),
        'fail',
      ],
      [
        'the agent reported an error',
        plain,
        undefined,
        latest(1, 'k', [{ a: '1' }], T0, { error: 'no such table: disk_encryption' }),
        'error',
      ],
      [
        'the agent reported an error even with a passing expression',
        osCheck,
        osPass,
        latest(1, 'k', [{ version: '14.4' }], T0, { error: 'timeout' }),
        'error',
      ],
      ['the pass expression is true', osCheck, osPass, latest(1, 'k', [{ version: '14.4.1 (23E224)' }], T0), 'pass'],
      ['the pass expression is false', osCheck, osPass, latest(1, 'k', [{ version: '12.1' }], T0), 'fail'],
      [
        'the pass expression is false on rows that would pass by default',
        osCheck,
        osPass,
        latest(1, 'k', [{ version: '11.0' }], T0),
        'fail',
      ],
      ['the pass expression fails to evaluate', osCheck, osPass, latest(1, 'k', [{ version: 'n/a' }], T0), 'error'],
    ];
    for (const [when, def, compiled, l, want] of cases) {
      it(`is ${want} when ${when}`, () => expect(evaluateCheck(def, compiled, l, undefined, 1).status).to.equal(want));
    }
  });

  it('interpolates the message from the first row', () => {
    const s = evaluateCheck(
      osCheck,
      osPass,
      latest(7, 'k', [{ version: '12.1' }, { version: '99' }], T0),
      undefined,
      7,
    );
    expect(s).to.deep.include({
      hostId: 7,
      checkId: 'os_version',
      status: 'fail',
      message: 'Your macOS is 12.1; we need 12.4 or later.',
    });
  });

  it('reports a CEL runtime error as error with the reason, never pass', () => {
    const check = checkDef('x', { pass: 'int(rows[0].n) > 3' });
    const s = evaluateCheck(
      check,
      compilePass(check.pass ?? '', 'x'),
      latest(1, 'k', [{ n: 'abc' }], T0),
      undefined,
      1,
    );
    expect(s.status).to.equal('error');
    expect(s.error).to.match(/^pass expression failed: /);
  });

  it('fails closed with error when a pass expression would run over too many rows', () => {
    const check = checkDef('all_on', { pass: 'rows.all(r, r.on == "1")' });
    const rows = Array.from({ length: MAX_EVAL_ROWS + 1 }, () => ({ on: '1' }));
    const s = evaluateCheck(check, compilePass(check.pass ?? '', check.id), latest(1, 'k', rows, T0), undefined, 1);
    expect(s.status).to.equal('error');
    expect(s.error).to.match(/too many rows/);
    expect(evaluateCheck(plain, undefined, latest(1, 'k', rows, T0), undefined, 1).status).to.equal('pass');
  });

  it('keeps the agent error text', () => {
    const s = evaluateCheck(
      plain,
      undefined,
      latest(1, 'k', [], T0, { error: 'no such table: bitlocker_info' }),
      undefined,
      1,
    );
    expect(s.error).to.equal('no such table: bitlocker_info');
    expect(s.observed).to.deep.equal([]);
  });

  it('keeps only the first few rows, few columns and short values', () => {
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, 'v'.repeat(1000)]));
    const rows = Array.from({ length: 20 }, () => wide);
    const s = evaluateCheck(plain, undefined, latest(1, 'k', rows, T0), undefined, 1);
    expect(s.observed).to.have.length(OBSERVED_LIMITS.rows);
    expect(Object.keys(s.observed[0] ?? {})).to.have.length(OBSERVED_LIMITS.columns);
    expect(s.observed[0]?.c0).to.have.length(OBSERVED_LIMITS.valueChars + 1);
  });

  it('caps observedAt at the server receive time (an agent clock ahead cannot stretch freshness)', () => {
    const s = evaluateCheck(
      plain,
      undefined,
      latest(1, 'k', [{ a: '1' }], T0 + 60 * MIN, { updatedAt: T0 }),
      undefined,
      1,
    );
    expect(s.observedAt).to.equal(T0);
  });

  describe('first_failed_at and last_passed_at', () => {
    it('follows a pass → fail → fail → error → fail → pass sequence', () => {
      const steps: Array<[number, LatestResult, CheckState['status'], number | null, number | null]> = [
        [0, latest(1, 'k', [{ a: '1' }], T0), 'pass', null, T0],
        [1, latest(1, 'k', [], T0 + MIN), 'fail', T0 + MIN, T0],
        [2, latest(1, 'k', [], T0 + 2 * MIN), 'fail', T0 + MIN, T0],
        [3, latest(1, 'k', [], T0 + 3 * MIN, { error: 'boom' }), 'error', T0 + MIN, T0],
        [4, latest(1, 'k', [], T0 + 4 * MIN), 'fail', T0 + MIN, T0],
        [5, latest(1, 'k', [{ a: '1' }], T0 + 5 * MIN), 'pass', null, T0 + 5 * MIN],
      ];
      let prev: CheckState | undefined;
      for (const [step, l, status, firstFailed, lastPassed] of steps) {
        const s = evaluateCheck(plain, undefined, l, prev, 1);
        expect({ step, status: s.status, firstFailedAt: s.firstFailedAt, lastPassedAt: s.lastPassedAt }).to.deep.equal({
          step,
          status,
          firstFailedAt: firstFailed,
          lastPassedAt: lastPassed,
        });
        prev = s;
      }
    });
    it('keeps both times when the result goes missing', () => {
      const prev = { firstFailedAt: T0, lastPassedAt: T0 - MIN };
      const s = evaluateCheck(plain, undefined, undefined, prev, 1);
      expect(s).to.deep.include({ status: 'unknown', observedAt: null, firstFailedAt: T0, lastPassedAt: T0 - MIN });
    });
  });
});
