/**
 * TLS and connections (issue #15 item 9), against the real server: forward-secret AEAD suites only, TLS ≥
 * 1.2, Strict-Transport-Security, a handshake timeout for raw TCP connections, a connection cap, and
 * /metrics behind a token or on a listener of its own.
 */
import { expect } from 'chai';
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import { startTestServer, type TestServer } from '../support/server.js';
import { createClient } from '../support/http.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** Connects with only the given TLS 1.2 suites; resolves the negotiated cipher or the refusal. */
function handshake(ts: TestServer, opts: tls.ConnectionOptions): Promise<{ ok: true; cipher: string } | { ok: false }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: ts.server.port, ca: ts.caPem, servername: 'localhost', ...opts });
    s.once('secureConnect', () => {
      resolve({ ok: true, cipher: s.getCipher().name });
      s.end();
    });
    s.once('error', () => resolve({ ok: false }));
  });
}

/** A raw TCP connection that never says anything; resolves when the server closes it. */
function rawSocket(port: number): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed };
}

function plainGet(port: number, path: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    http
      .get({ host: '127.0.0.1', port, path, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

describe('TLS: protocol, cipher suites, HSTS, handshake timeout, metrics token (real server)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      env: { TRUSTGATE_TLS_HANDSHAKE_TIMEOUT_MS: '300', TRUSTGATE_METRICS_TOKEN: METRICS_TOKEN },
    });
  });
  after(() => ts.stop());

  it('refuses a TLS 1.2 client offering only RSA key exchange (no forward secrecy)', async () => {
    const r = await handshake(ts, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' });
    expect(r.ok).to.equal(false);
  });

  it('refuses CBC-SHA1 suites, even with ECDHE', async () => {
    const r = await handshake(ts, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA' });
    expect(r.ok).to.equal(false);
  });

  it('refuses TLS 1.1', async () => {
    const r = await handshake(ts, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(r.ok).to.equal(false);
  });

  it('accepts TLS 1.2 with ECDHE + AES-GCM, and TLS 1.3', async () => {
    const r12 = await handshake(ts, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(r12).to.deep.equal({ ok: true, cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect((await handshake(ts, {})).ok).to.equal(true);
  });

  it('sends Strict-Transport-Security on every surface', async () => {
    const api = await ts.client.request('/healthz');
    expect(api.headers['strict-transport-security']).to.equal('max-age=31536000');
    const osq = await ts.client.request('/api/v1/osquery/config', { body: { node_key: 'nope' } });
    expect(osq.headers['strict-transport-security']).to.equal('max-age=31536000');
    // the gateway writes it with its answers' own headers: every kind of answer it gives
    const gateway = [
      await ts.client.request('/api/v1/verdict?serial=S&resource=prod-db', { token: ts.gatewayToken }),
      await ts.client.request('/api/v1/verdict?serial=S&resource=r', { token: ts.gatewayToken }),
      await ts.client.request('/api/v1/verdict?serial=S&resource=prod-db'),
      await ts.client.request('/api/v1/authz', {
        token: ts.gatewayToken,
        headers: { 'X-Trustgate-Resource': 'prod-db', 'X-Device-Serial': 'S' },
      }),
      await ts.client.request('/api/v1/verdicts/bundle', { token: ts.gatewayToken }),
    ];
    expect(gateway.map((r) => r.status)).to.deep.equal([200, 404, 401, 403, 200]);
    for (const r of gateway) expect(r.headers['strict-transport-security']).to.equal('max-age=31536000');
  });

  it('closes a raw TCP connection that never starts a handshake (after the configured timeout)', async () => {
    const { closed } = rawSocket(ts.server.port);
    await closed; // the setting is 300 ms here; without it Node holds the socket 120 s and mocha times out
  });

  it('/metrics needs the metrics token when one is set', async () => {
    const none = await ts.client.request('/metrics');
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.equal('Bearer');
    expect((await ts.client.request('/metrics', { token: 'wrong-wrong-wrong-wrong' })).status).to.equal(401);
    const ok = await ts.client.request('/metrics', { token: METRICS_TOKEN });
    expect(ok.status).to.equal(200);
    expect(ok.text).to.match(/trustgate_requests_total/);
  });
});

describe('connections: the cap, and /metrics on its own listener (real server)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      env: { TRUSTGATE_MAX_CONNECTIONS: '2', TRUSTGATE_METRICS_LISTEN: '127.0.0.1:0' },
    });
  });
  after(() => ts.stop());

  it('closes connections beyond TRUSTGATE_MAX_CONNECTIONS at accept, and serves again once one is gone', async () => {
    ts.client.close(); // no keep-alive connection of the helper counts against the cap
    const a = rawSocket(ts.server.port);
    const b = rawSocket(ts.server.port);
    await Promise.all([a, b].map((s) => new Promise((r) => s.socket.once('connect', r))));
    const third = rawSocket(ts.server.port);
    await third.closed; // refused while two are open (their handshake timeout is the default 10 s)
    expect(a.socket.destroyed || b.socket.destroyed).to.equal(false);
    a.socket.destroy();
    b.socket.destroy();
    await Promise.all([a.closed, b.closed]);
    // the server notices the closes asynchronously: retry a real request until it is served
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const c = createClient(ts.url, ts.caPem, { keepAlive: false });
      status = (await c.request('/healthz').catch(() => ({ status: 0 }))).status;
      c.close();
    }
    expect(status).to.equal(200);
  });

  it('serves /metrics on the metrics listener only', async () => {
    const port = ts.server.metricsPort;
    expect(port).to.be.a('number');
    const r = await plainGet(port as number, '/metrics');
    expect(r.status).to.equal(200);
    expect(r.text).to.match(/trustgate_requests_total/);
    expect((await plainGet(port as number, '/api/v1/hosts')).status).to.equal(404);
    const c = createClient(ts.url, ts.caPem, { keepAlive: false });
    expect((await c.request('/metrics')).status).to.equal(404);
    c.close();
  });
});
