/** shared/duration: `<n>s|m|h|d` to milliseconds and back. */
import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../server/shared/duration.js';
import { AppError } from '../../server/shared/errors.js';

describe('shared/duration', () => {
  it('parseDuration reads seconds, minutes, hours and days', () => {
    expect(['1s', '15m', '2h', '7d', '90m'].map(parseDuration)).to.deep.equal([
      1000, 900_000, 7_200_000, 604_800_000, 5_400_000,
    ]);
  });

  it('parseDuration refuses anything else with an invalid error that quotes it', () => {
    for (const bad of ['', '15', 'm', '0m', '015m', '1.5h', '-1m', '15M', ' 15m', '15m ', '1w', '1h30m']) {
      let err: unknown;
      try {
        parseDuration(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(AppError);
      expect(err, bad).to.include({ code: 'invalid' });
      expect((err as AppError).message).to.include(`"${bad}"`);
    }
  });

  it('formatDuration picks the largest whole unit, else rounds to seconds', () => {
    expect(
      [86_400_000, 172_800_000, 3_600_000, 5_400_000, 60_000, 1000, 1500, 59_999, 0].map(formatDuration),
    ).to.deep.equal(['1d', '2d', '1h', '90m', '1m', '1s', '2s', '60s', '0s']);
  });

  it('formatDuration and parseDuration round-trip whole units', () => {
    for (const text of ['1s', '45s', '15m', '36h', '30d']) expect(formatDuration(parseDuration(text))).to.equal(text);
  });
});
