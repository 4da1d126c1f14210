/**
 * The HTTP failure table through its entry points that outlive the error rework (statusOf,
 * renderApiError): every AppError code to its status, body-parser errors normalised, 5xx never leaking.
 */
import { expect } from 'chai';
import { renderApiError, statusOf } from '../../server/http/errors.js';
import { AppError, type ErrorCode } from '../../server/shared/errors.js';

describe('http/errors', () => {
  const table: Array<[ErrorCode, number]> = [
    ['invalid', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['method_not_allowed', 405],
    ['conflict', 409],
    ['too_large', 413],
    ['unavailable', 503],
  ];

  it('maps every AppError code to its status and renders {error: {code, message}} for 4xx', () => {
    for (const [code, status] of table) {
      const err = new AppError(code, `the ${code} message`);
      expect(statusOf(err), code).to.equal(status);
      const out = renderApiError(err);
      expect(out.status, code).to.equal(status);
      if (status < 500) expect(out.body, code).to.deep.equal({ error: { code, message: `the ${code} message` } });
    }
  });

  it('renders an unexpected error as 500 without its message, and keeps a 5xx AppError message to itself', () => {
    expect(statusOf(new Error('db path /secret'))).to.equal(500);
    expect(renderApiError(new Error('db path /secret'))).to.deep.equal({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
    expect(JSON.stringify(renderApiError(new AppError('unavailable', 'fsync of /data failed')).body)).to.not.include(
      '/data',
    );
  });

  it('turns body-parser errors into invalid or too_large, and passes details of a 4xx', () => {
    expect(renderApiError({ status: 413, type: 'entity.too.large' }).status).to.equal(413);
    expect(renderApiError({ status: 415 }).status).to.equal(400);
    const malformed = renderApiError({ status: 400, message: 'Unexpected token } in JSON' });
    expect(malformed.status).to.equal(400);
    expect(JSON.stringify(malformed.body)).to.include('Unexpected token');
    expect(renderApiError(new AppError('invalid', 'bad', [{ path: '/port' }])).body).to.deep.equal({
      error: { code: 'invalid', message: 'bad', details: [{ path: '/port' }] },
    });
  });
});
