/** shared/errors: the closed family of AppError codes and the message of any thrown value (statuses: test/http). */
import { expect } from 'chai';
import {
  AppError,
  conflict,
  errorMessage,
  forbidden,
  invalid,
  isAppError,
  notFound,
  unauthenticated,
  unavailable,
  type ErrorCode,
} from '../../server/shared/errors.js';

describe('shared/errors', () => {
  it('AppError is an Error with a code, a message, optional details and a cause', () => {
    const cause = new Error('disk full');
    const e = new AppError('unavailable', 'try later', { retryAfter: 5 }, { cause });
    expect(e).to.be.instanceOf(Error);
    expect(e).to.include({ name: 'AppError', code: 'unavailable', message: 'try later', cause });
    expect(e.details).to.deep.equal({ retryAfter: 5 });
    expect(isAppError(e)).to.equal(true);
    expect(isAppError(cause)).to.equal(false);
  });

  it('the helpers make the error of their code', () => {
    const made: Array<[AppError, ErrorCode, string]> = [
      [invalid('bad port', { field: 'port' }), 'invalid', 'bad port'],
      [notFound('host C02'), 'not_found', 'host C02 not found'],
      [conflict('taken'), 'conflict', 'taken'],
      [forbidden('viewer'), 'forbidden', 'viewer'],
      [unauthenticated('no token'), 'unauthenticated', 'no token'],
      [unavailable('queue full'), 'unavailable', 'queue full'],
    ];
    for (const [e, code, message] of made) expect([e.code, e.message]).to.deep.equal([code, message]);
    expect(invalid('bad port', { field: 'port' }).details).to.deep.equal({ field: 'port' });
  });

  it('errorMessage reads the message of an Error and stringifies anything else', () => {
    expect(errorMessage(new TypeError('boom'))).to.equal('boom');
    expect(errorMessage('plain')).to.equal('plain');
    expect(errorMessage(42)).to.equal('42');
    expect(errorMessage(undefined)).to.equal('undefined');
  });
});
