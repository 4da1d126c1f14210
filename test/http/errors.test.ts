/**
 * http/errors.ts: the one status table, the bodies and headers of every surface, the log line, and the koa
 * boundary's choice between JSON and a page's own HTML.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import {
  errorBoundary,
  failureBody,
  failureHeaders,
  failureOf,
  failureRenderer,
  statusFor,
  surfaceOf,
  type PageFailures,
  type Surface,
} from '../../server/http/errors.js';
import { AppError, type ErrorCode } from '../../server/shared/errors.js';
import { createLogger } from '../../server/shared/log.js';

/** Every code and its status, as the README's contract states them (a new code fails to compile here). */
const WANT: Record<ErrorCode | 'internal', number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  expired: 410,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

const fail = (code: ErrorCode, message: string) => new AppError(code, message);

function capture(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', dest), lines };
}

describe('http/errors', () => {
  describe('statusFor', () => {
    for (const [code, status] of Object.entries(WANT)) {
      it(`maps ${code} to ${status}`, () => expect(statusFor(code as ErrorCode | 'internal')).to.equal(status));
    }
  });

  describe('failureOf', () => {
    it('sends an AppError’s message (4xx and 503 alike) and hides anything else behind a fixed text', () => {
      expect(failureOf(fail('conflict', 'limit reached'))).to.include({
        code: 'conflict',
        status: 409,
        message: 'limit reached',
      });
      const queueFull = failureOf(fail('unavailable', 'ingest queue is full; retry later'));
      expect(queueFull).to.include({ status: 503, message: 'ingest queue is full; retry later' });
      expect(failureOf(new Error('SQLITE_CORRUPT: /srv/db'))).to.include({
        code: 'internal',
        status: 500,
        message: 'internal error',
      });
      expect(failureOf('a string')).to.include({ code: 'internal', status: 500 });
    });

    it('turns the body parser’s errors into AppErrors: too large, unsupported, malformed', () => {
      const parserError = (status: number, message: string, type?: string) =>
        Object.assign(new Error(message), { status, type });
      expect(failureOf(parserError(413, 'too big', 'entity.too.large'))).to.include({ code: 'too_large', status: 413 });
      expect(failureOf(parserError(415, 'nope'))).to.include({ code: 'invalid', status: 400 });
      expect(failureOf(parserError(400, 'Unexpected token')).message).to.equal(
        'malformed request body: Unexpected token',
      );
    });
  });

  describe('failureBody', () => {
    const body = (surface: Surface, err: unknown) => failureBody(surface, failureOf(err));

    it('answers osquery with "error" always and node_invalid for an unknown node key', () => {
      expect(body('osquery', fail('unauthenticated', 'unknown node key'))).to.deep.equal({
        node_invalid: true,
        error: 'unknown node key',
      });
      expect(body('osquery', fail('invalid', 'data[3]: wrong type'))).to.deep.equal({ error: 'data[3]: wrong type' });
      expect(body('osquery', new Error('boom'))).to.deep.equal({ error: 'internal error' });
    });

    it('answers the APIs and the pages’ JSON with {error: {code, message}} (+ details, retry_after_s)', () => {
      expect(body('api', fail('not_found', 'host not found'))).to.deep.equal({
        error: { code: 'not_found', message: 'host not found' },
      });
      expect(body('api', new AppError('conflict', 'limit', { why: 'limit' }))).to.deep.equal({
        error: { code: 'conflict', message: 'limit', details: { why: 'limit' } },
      });
      expect(body('page', new AppError('conflict', 'wait', undefined, { retryAfterS: 10 }))).to.deep.equal({
        error: { code: 'conflict', message: 'wait', retry_after_s: 10 },
      });
      expect(body('api', new Error('secret path'))).to.deep.equal({
        error: { code: 'internal', message: 'internal error' },
      });
    });
  });

  describe('failureHeaders', () => {
    const headers = (surface: Surface, err: unknown) => failureHeaders(surface, failureOf(err));

    it('asks API clients for a bearer token on 401; sends Retry-After and Allow when the error has them', () => {
      expect(headers('api', fail('unauthenticated', 'no token'))).to.deep.equal({ 'WWW-Authenticate': 'Bearer' });
      expect(headers('osquery', fail('unauthenticated', 'no key'))).to.deep.equal({});
      expect(headers('page', new AppError('unavailable', 'busy', undefined, { retryAfterS: 30 }))).to.deep.equal({
        'Retry-After': '30',
      });
      expect(
        headers('osquery', new AppError('method_not_allowed', 'POST only', undefined, { allow: ['POST'] })),
      ).to.deep.equal({ Allow: 'POST' });
    });
  });

  describe('failureRenderer (bare-Node handlers)', () => {
    it('renders status, JSON and headers, and logs one line: info for a 4xx, error with the cause for a 5xx', () => {
      const { log, lines } = capture();
      const render = failureRenderer('api', log);
      expect(render(fail('unauthenticated', 'no token'), { path: '/api/v1/verdict' })).to.deep.equal({
        status: 401,
        body: '{"error":{"code":"unauthenticated","message":"no token"}}',
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
      expect(render(new Error('disk on fire'), { reqId: 'r1', path: '/api/v1/authz' }).status).to.equal(500);
      expect(lines.map((l) => [l.level, l.event, l.path])).to.deep.equal([
        [30, 'http.rejected', '/api/v1/verdict'],
        [50, 'http.error', '/api/v1/authz'],
      ]);
      expect(JSON.stringify(lines[1])).to.contain('disk on fire');
    });
  });

  describe('surfaceOf', () => {
    it('tells the osquery API, the JSON APIs and the pages apart', () => {
      const paths = ['/api/osquery/log', '/api/v1/osquery/config', '/api/v1/hosts', '/metrics', '/device', '/'];
      expect(paths.map(surfaceOf)).to.deep.equal(['osquery', 'osquery', 'api', 'api', 'page', 'page']);
    });
  });

  describe('errorBoundary', () => {
    let server: http.Server;
    let url: string;
    const pages: PageFailures = {
      wantsJson: (ctx) => ctx.path.endsWith('.json'),
      html: (f) => {
        if (f.err instanceof AppError && f.err.message === 'page breaks') throw new Error('renderer down');
        return `<h1>${f.code}</h1>`;
      },
    };
    before(async () => {
      const app = new Koa();
      app.silent = true;
      app.use(errorBoundary(createLogger('silent'), pages));
      app.use((ctx) => {
        if (ctx.path === '/page/broken') throw new AppError('invalid', 'page breaks');
        if (ctx.path.startsWith('/api/')) throw new AppError('unauthenticated', 'who are you');
        throw new AppError('expired', 'link expired', undefined, { retryAfterS: 5 });
      });
      const callback = app.callback();
      server = http.createServer((req, res) => void callback(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => new Promise<void>((resolve) => server.close(() => resolve())));

    it('renders a page failure as the page module’s HTML with the table’s status and the error’s headers', async () => {
      const res = await fetch(`${url}/device`);
      expect(res.status).to.equal(410);
      expect(res.headers.get('content-type')).to.contain('text/html');
      expect(res.headers.get('retry-after')).to.equal('5');
      expect(await res.text()).to.equal('<h1>expired</h1>');
    });

    it('renders a page failure as JSON when the page module says the request wants JSON', async () => {
      const res = await fetch(`${url}/device/status.json`);
      expect(res.status).to.equal(410);
      expect(await res.json()).to.deep.equal({ error: { code: 'expired', message: 'link expired', retry_after_s: 5 } });
    });

    it('renders the renderer’s own failure when the failure page cannot be drawn (no stack, no data)', async () => {
      const res = await fetch(`${url}/page/broken`);
      expect(res.status).to.equal(500);
      expect(await res.text()).to.equal('<h1>internal</h1>');
    });

    it('renders an API failure as JSON with WWW-Authenticate on 401', async () => {
      const res = await fetch(`${url}/api/v1/hosts`);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer');
      expect(await res.json()).to.deep.equal({ error: { code: 'unauthenticated', message: 'who are you' } });
    });
  });
});
