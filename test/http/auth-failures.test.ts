/**
 * Failed authentications are limited (issue #15 item 7), through real HTTPS: wrong bearer tokens (admin
 * API, gateway) and wrong enroll secrets / node keys answer 429 with Retry-After once the client
 * address or the presented credential is over its budget; valid credentials are never limited;
 * X-Forwarded-For is believed only from TRUSTGATE_TRUSTED_PROXIES. Time is a ManualClock.
 */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { loadConfig } from '../../server/config/load.js';
import { createClientAddress } from '../../server/shared/client-address.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { OSQ, tryEnroll } from '../osquery/agent.js';
import type { IncomingMessage } from 'node:http';

const LINUX = 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json';
const WINDOW_S = 60;

describe('failed authentications are limited (real HTTPS)', function () {
  this.timeout(30_000);
  const clock = new ManualClock();
  let ts: TestServer;
  let n = 0;
  const wrong = () => `wrong-token-${(n += 1)}`;

  before(async () => {
    ts = await startTestServer({
      clock,
      env: {
        TRUSTGATE_AUTH_FAILURES_PER_ADDRESS: '3',
        TRUSTGATE_AUTH_FAILURES_PER_CREDENTIAL: '100',
        TRUSTGATE_AUTH_FAILURE_WINDOW_SECONDS: String(WINDOW_S),
      },
    });
  });
  after(() => ts.stop());
  // every test starts with fresh windows
  beforeEach(() => clock.advance(WINDOW_S * 1000));

  it('admin API: 401 up to the budget, then 429 + Retry-After; a valid token passes; the window ends', async () => {
    for (let i = 0; i < 3; i++)
      expect((await ts.client.request('/api/v1/hosts', { token: wrong() })).status).to.equal(401);
    const limited = await ts.client.request('/api/v1/hosts', { token: wrong() });
    expect(limited.status).to.equal(429);
    expect(limited.headers['retry-after']).to.equal(String(WINDOW_S));
    expect(limited.json).to.have.nested.property('error.code', 'rate_limited');
    // the same address with a valid token is never slowed
    expect((await ts.client.request('/api/v1/hosts', { token: ts.adminToken })).status).to.equal(200);
    clock.advance(20_000);
    expect((await ts.client.request('/api/v1/hosts', { token: wrong() })).headers['retry-after']).to.equal('40');
    clock.advance(40_000);
    expect((await ts.client.request('/api/v1/hosts', { token: wrong() })).status).to.equal(401);
  });

  it('a missing token counts like a wrong one; a forbidden role does not count', async () => {
    const viewerless = await ts.client.request('/api/v1/hosts');
    expect(viewerless.status).to.equal(401);
    for (let i = 0; i < 5; i++) {
      // the gateway token is valid but may not list hosts: 403, never 429
      expect((await ts.client.request('/api/v1/hosts', { token: ts.gatewayToken })).status).to.equal(403);
    }
    await ts.client.request('/api/v1/hosts');
    await ts.client.request('/api/v1/hosts');
    expect((await ts.client.request('/api/v1/hosts')).status).to.equal(429);
  });

  it('gateway API: wrong tokens are limited (cached or not), the gateway token is not', async () => {
    const path = '/api/v1/verdict?serial=S1&resource=wiki';
    const bad = wrong();
    for (let i = 0; i < 3; i++) expect((await ts.client.request(path, { token: bad })).status).to.equal(401);
    const limited = await ts.client.request(path, { token: bad });
    expect(limited.status).to.equal(429);
    expect(limited.headers['retry-after']).to.equal(String(WINDOW_S));
    expect((await ts.client.request(path, { token: ts.gatewayToken })).status).to.not.be.oneOf([401, 429]);
  });

  it('osquery enroll: wrong secrets get 429 with an osquery error body; the right secret still enrolls', async () => {
    for (let i = 0; i < 3; i++) expect((await tryEnroll(ts.client, wrong(), LINUX)).status).to.equal(401);
    const limited = await tryEnroll(ts.client, wrong(), LINUX);
    expect(limited.status).to.equal(429);
    expect(limited.headers['retry-after']).to.equal(String(WINDOW_S));
    const body = limited.json as Record<string, unknown>;
    expect(body.error)
      .to.be.a('string')
      .and.match(/too many failed authentications/);
    expect(body).to.not.have.property('node_invalid');
    const ok = await tryEnroll(ts.client, ts.enrollSecret, LINUX, { serial: 'RATE-1' });
    expect(ok.status).to.equal(200);
    expect(ok.json).to.have.property('node_key').that.is.a('string');
  });

  it('osquery node keys: counted per key, never per address (a fleet behind one NAT re-enrolls at once)', async () => {
    const ok = await tryEnroll(ts.client, ts.enrollSecret, LINUX, { serial: 'RATE-2' });
    const nodeKey = (ok.json as { node_key: string }).node_key;
    for (let i = 0; i < 10; i++) {
      const r = await ts.client.request(`${OSQ}/config`, { body: { node_key: wrong() } });
      expect(r.status).to.equal(401);
      expect(r.json).to.have.property('node_invalid', true);
    }
    expect((await ts.client.request(`${OSQ}/config`, { body: { node_key: nodeKey } })).status).to.equal(200);
  });

  it('X-Forwarded-For from an untrusted peer is ignored (a client cannot pick a fresh key)', async () => {
    for (let i = 0; i < 3; i++) await ts.client.request('/api/v1/hosts', { token: wrong() });
    const r = await ts.client.request('/api/v1/hosts', {
      token: wrong(),
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(r.status).to.equal(429);
  });
});

describe('failed authentications behind a trusted proxy (real HTTPS)', function () {
  this.timeout(30_000);
  const clock = new ManualClock();
  let ts: TestServer;
  const as = (ip: string, token: string) =>
    ts.client.request('/api/v1/hosts', { token, headers: { 'x-forwarded-for': ip } });

  before(async () => {
    ts = await startTestServer({
      clock,
      env: {
        TRUSTGATE_AUTH_FAILURES_PER_ADDRESS: '3',
        TRUSTGATE_AUTH_FAILURES_PER_CREDENTIAL: '5',
        TRUSTGATE_TRUSTED_PROXIES: '127.0.0.0/8, ::1',
      },
    });
  });
  after(() => ts.stop());
  beforeEach(() => clock.advance(60_000));

  it('keys by the forwarded client: one client over budget does not refuse the others behind the proxy', async () => {
    for (let i = 0; i < 3; i++) expect((await as('198.51.100.1', `a${i}`)).status).to.equal(401);
    expect((await as('198.51.100.1', 'a3')).status).to.equal(429);
    // a hop the client wrote itself (left of the proxy's own entry) is not believed
    expect((await as('198.51.100.2, 198.51.100.1', 'a4')).status).to.equal(429);
    expect((await as('198.51.100.2', 'b0')).status).to.equal(401);
  });

  it('one unknown node key retried is limited per key: 429 with an osquery error body', async () => {
    const key = 'an-unknown-node-key';
    for (let i = 0; i < 5; i++) {
      const r = await ts.client.request(`${OSQ}/config`, { body: { node_key: key } });
      expect(r.json).to.have.property('node_invalid', true);
    }
    const limited = await ts.client.request(`${OSQ}/config`, { body: { node_key: key } });
    expect(limited.status).to.equal(429);
    expect(limited.json).to.have.property('error').that.is.a('string');
    expect(limited.json).to.not.have.property('node_invalid');
  });

  it('one wrong credential retried from many addresses is limited per credential', async () => {
    for (let i = 0; i < 5; i++) expect((await as(`192.0.2.${i + 1}`, 'shared-wrong')).status).to.equal(401);
    expect((await as('192.0.2.50', 'shared-wrong')).status).to.equal(429);
    expect((await as('192.0.2.50', 'another-wrong')).status).to.equal(401);
  });
});

describe('client address and the trusted proxies setting', () => {
  const req = (remoteAddress: string, xff?: string) =>
    ({ socket: { remoteAddress }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;

  it('reads X-Forwarded-For from the right, skipping trusted proxies', () => {
    const addressOf = createClientAddress(['10.0.0.0/8', '::1']);
    expect(addressOf(req('::ffff:10.1.2.3', '203.0.113.5, 10.9.9.9'))).to.equal('203.0.113.5');
    expect(addressOf(req('::1', '1.1.1.1, 203.0.113.5'))).to.equal('203.0.113.5');
    expect(addressOf(req('192.0.2.1', '203.0.113.5'))).to.equal('192.0.2.1');
    expect(addressOf(req('10.0.0.1', 'not-an-ip'))).to.equal('10.0.0.1');
    expect(addressOf(req('10.0.0.1'))).to.equal('10.0.0.1');
    expect(createClientAddress([])(req('10.0.0.1', '203.0.113.5'))).to.equal('10.0.0.1');
  });

  it('refuses a malformed proxy entry with a message naming the setting', () => {
    expect(() => loadConfig({ TRUSTGATE_TRUSTED_PROXIES: '10.0.0.0/33' })).to.throw(/TRUSTGATE_TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTGATE_TRUSTED_PROXIES: '10.0.0.0/8,::1' }).trustedProxies).to.deep.equal([
      '10.0.0.0/8',
      '::1',
    ]);
  });
});
