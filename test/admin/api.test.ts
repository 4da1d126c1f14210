/** The admin API over real HTTPS: roles, tokens, secrets, hosts, packs, policy, health and metrics. */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollFrom, OSQ } from '../osquery/agent.js';

describe('admin API', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ env: { TRUSTGATE_STATUS_LOGS_PER_HOST: '3' } });
  });
  after(async () => {
    await ts.stop();
  });
  const api = (path: string, opts: { token?: string; body?: unknown; method?: string } = {}) =>
    ts.client.request(`/api/v1${path}`, {
      token: opts.token ?? ts.adminToken,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      ...(opts.method ? { method: opts.method } : {}),
    });

  describe('authentication', () => {
    it('answers 401 with a JSON error and WWW-Authenticate for a missing or bad token', async () => {
      for (const token of ['', 'tg_a_not-a-real-token']) {
        const r = await ts.client.request('/api/v1/hosts', token ? { token } : {});
        expect(r.status).to.equal(401);
        expect(r.headers['www-authenticate']).to.equal('Bearer');
        expect((r.json as { error: { code: string } }).error.code).to.equal('unauthenticated');
      }
    });

    it('lets a viewer read but not mutate, and keeps gateway tokens off the admin API', async () => {
      const created = await api('/tokens', { body: { name: 'ro', role: 'viewer' } });
      expect(created.status).to.equal(201);
      const viewer = (created.json as { token: string }).token;
      expect((await api('/hosts', { token: viewer })).status).to.equal(200);
      expect((await api('/tokens', { token: viewer, body: { name: 'x', role: 'admin' } })).status).to.equal(403);
      expect((await api('/hosts', { token: ts.gatewayToken })).status).to.equal(403);
    });

    it('stops accepting a revoked token', async () => {
      const created = await api('/tokens', { body: { name: 'short-lived', role: 'viewer' } });
      const { token, id } = created.json as { token: string; id: number };
      expect((await api('/hosts', { token })).status).to.equal(200);
      expect((await api(`/tokens/${id}`, { method: 'DELETE' })).status).to.equal(204);
      expect((await api('/hosts', { token })).status).to.equal(401);
    });

    it('never lists token secrets', async () => {
      const r = await api('/tokens');
      expect(r.text).not.to.contain(ts.adminToken);
      expect(r.text).not.to.match(/tg_[agv]_/);
    });
  });

  describe('enroll secrets', () => {
    it('creates a named secret (shown once) that enrolls, and refuses it once revoked', async () => {
      const r = await api('/enroll-secrets', { body: { name: 'laptops-2026', expires_in: '30d' } });
      expect(r.status).to.equal(201);
      const secret = (r.json as { secret: string }).secret;
      const list = await api('/enroll-secrets');
      expect(list.text).not.to.contain(secret);
      expect((list.json as { secrets: Array<{ name: string }> }).secrets.map((s) => s.name)).to.include('laptops-2026');
      await enrollFrom(ts.client, secret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
        serial: 'SEC-1',
        uuid: 'uuid-sec-1',
      });
      expect((await api('/enroll-secrets/laptops-2026', { method: 'DELETE' })).status).to.equal(204);
      const refused = await ts.client.request(`${OSQ}/enroll`, {
        body: { enroll_secret: secret, host_identifier: 'x' },
      });
      expect(refused.json).to.deep.include({ node_invalid: true });
    });

    it('rejects unknown keys and wrong types with a 400 naming the problem', async () => {
      const r = await api('/enroll-secrets', { body: { name: 'x', expire: '1d' } });
      expect(r.status).to.equal(400);
      expect((r.json as { error: { message: string } }).error.message).to.match(/additional/);
    });
  });

  describe('hosts', () => {
    it('lists, searches and shows a host with its recent status logs (kept to the last N)', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-darwin10.14.6-osquery4.6.0.json', {
        serial: 'HOSTS-1',
        uuid: 'uuid-hosts-1',
      });
      for (let i = 0; i < 5; i++)
        await a.post('/log', {
          log_type: 'status',
          data: [{ severity: 0, filename: 'x.cpp', line: i, message: `m${i}`, unixTime: 1000 + i }],
        });
      const list = await api('/hosts?search=HOSTS');
      expect((list.json as { hosts: Array<{ serial: string }> }).hosts.map((h) => h.serial)).to.deep.equal(['HOSTS-1']);
      const detail = await api('/hosts/HOSTS-1');
      const host = (
        detail.json as {
          host: { platform: string; status_logs: Array<{ message: string }>; decisions: Record<string, unknown> };
        }
      ).host;
      expect(host.platform).to.equal('darwin');
      expect(host.status_logs.map((s) => s.message)).to.deep.equal(['m4', 'm3', 'm2']);
      expect(host.decisions).to.have.property('prod-db');
      expect((await api('/hosts/NOPE')).status).to.equal(404);
    });

    it('unenrolls a host: its node key stops working', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
        serial: 'GONE-1',
        uuid: 'uuid-gone-1',
      });
      expect((await api('/hosts/GONE-1', { method: 'DELETE' })).status).to.equal(200);
      const r = await a.post('/config', {});
      expect(r.json).to.deep.include({ node_invalid: true });
    });
  });

  describe('packs and policy', () => {
    it("refuses a broken pack (file, location and problem) and installs a valid one into agents' config", async () => {
      const bad = await api('/packs/extra', {
        method: 'PUT',
        body: { queries: { q: { query: 'SELECT 1', interval: 'soon' } } },
      });
      expect(bad.status).to.equal(400);
      expect((bad.json as { error: { message: string } }).error.message).to.match(/extra\.json.*interval/);
      const good = await api('/packs/extra', {
        method: 'PUT',
        body: { platform: 'linux', queries: { uptime_probe: { query: 'SELECT * FROM uptime', interval: 600 } } },
      });
      expect(good.status).to.equal(200);
      const a = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
        serial: 'PACK-1',
        uuid: 'uuid-pack-1',
      });
      const cfg = (await a.post('/config', {})).json as { packs: Record<string, unknown> };
      expect(cfg.packs).to.have.property('extra');
      expect(((await api('/packs')).json as { packs: Array<{ name: string }> }).packs.map((p) => p.name)).to.include(
        'extra',
      );
      expect((await api('/packs/extra', { method: 'DELETE' })).status).to.equal(204);
    });

    it('refuses a policy with an unknown key, naming the path, and keeps the running policy', async () => {
      const before = await api('/policy');
      const r = await api('/policy', {
        method: 'PUT',
        body: {
          text: 'tiers:\n  low: { max_age: 24h, checks: [osquery_healthy], maxage: 1h }\nresources: {}\n',
          format: 'yaml',
        },
      });
      expect(r.status).to.equal(400);
      expect((r.json as { error: { message: string } }).error.message).to.match(/\/tiers\/low/);
      expect((await api('/policy')).text).to.equal(before.text);
    });

    it('dry-runs a proposed policy without changing anything', async () => {
      const r = await api('/policy/dry-run', {
        body: {
          text:
            'tiers:\n  low: { max_age: 24h, checks: [osquery_healthy] }\n' +
            'resources:\n  wiki: { tier: low, mode: enforce }\n',
          format: 'yaml',
        },
      });
      expect(r.status).to.equal(200);
      expect(r.json).to.have.property('resources');
    });
  });

  describe('health and metrics', () => {
    it('serves /healthz, /readyz and Prometheus /metrics (requests, ingest latency, hosts enrolled)', async () => {
      expect((await ts.client.request('/healthz')).json).to.deep.equal({ status: 'ok' });
      expect((await ts.client.request('/readyz')).json).to.deep.equal({ status: 'ready' });
      const m = await ts.client.request('/metrics');
      expect(m.text).to.match(/trustgate_requests_total\{endpoint="enroll",outcome="ok"\} \d+/);
      expect(m.text).to.contain('trustgate_ingest_seconds_bucket');
      expect(m.text).to.match(/trustgate_hosts_enrolled \d+/);
    });
  });
});
