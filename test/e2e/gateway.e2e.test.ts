/**
 * End to end: a real nginx (auth_request) and a real Caddy (forward_auth), configured from the shipped
 * examples in osquery-examples/gateway/, in front of a small upstream, with the real Trustgate deciding
 * over HTTPS. Devices enroll and report the shipped baseline as osqueryd does.
 *
 * Needs the Debian packages nginx and caddy (`.ci/run` installs them); fails, never skips, without them.
 */
import { expect } from 'chai';
import type { Device } from '../gateway/baseline.js';
import { must } from '../support/must.js';
import { gatewayRequest, type GatewayReply } from './support/client.js';
import { startCaddy, startNginx, type Gateway } from './support/gateways.js';
import { createTestPki, type Issued, type TestPki } from './support/pki.js';
import { freePort, requireCommand } from './support/processes.js';
import { startTrustgate, type E2eTrustgate } from './support/trustgate.js';
import { startSso, type Sso } from './support/sso.js';
import { startUpstream, UPSTREAM_BODY, type Upstream } from './support/upstream.js';

const DB = 'db.internal.example.com'; // prod-db: tier high, enforce
const GRAFANA = 'grafana.internal.example.com'; // grafana: tier medium, enforce
const WIKI = 'wiki.internal.example.com'; // wiki: tier low, monitor

const headerOf = (r: GatewayReply, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
};

describe('gateway e2e: nginx and Caddy in front of an upstream, Trustgate deciding', function () {
  let tg: E2eTrustgate;
  let upstream: Upstream;
  let ok: Device; // every check passes
  let noFirewall: Device; // fails macos_firewall (high and medium)
  let noSip: Device; // fails macos_sip (high only)
  let noFilevault: Device; // fails macos_filevault (every tier, wiki is monitor mode)
  let sso: Sso; // the SSO proxy in front (support/sso.ts)
  let alice: string; // alice@example.com's session cookie

  before(async () => {
    requireCommand('nginx');
    requireCommand('caddy');
    tg = await startTrustgate();
    upstream = await startUpstream();
    sso = await startSso();
    alice = sso.session('alice@example.com');
    ok = await tg.device('darwin', 'E2E-OK-1');
    noFirewall = await tg.device('darwin', 'E2E-NOFW-1', ['macos_firewall']);
    noSip = await tg.device('darwin', 'E2E-NOSIP-1', ['macos_sip']);
    noFilevault = await tg.device('darwin', 'E2E-NOFV-1', ['macos_filevault']);
  });
  after(async () => {
    await upstream?.stop();
    await sso?.stop();
    await tg?.stop();
  });

  /** Asserts the request reached the upstream, and returns what the upstream saw. */
  function expectUpstream(r: GatewayReply, gw: Gateway, before: number): Upstream['requests'][number] {
    expect(r.status, `${gw.kind}: ${r.status} ${r.body}\n${gw.service.output()}`).to.equal(200);
    expect(r.body).to.equal(UPSTREAM_BODY);
    expect(upstream.requests.length).to.equal(before + 1);
    return must(upstream.requests[upstream.requests.length - 1], 'the request the upstream saw');
  }

  describe('nginx auth_request (serial from a request header standing in for the client certificate)', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startNginx({
        trustgate: tg.endpoint,
        upstream: upstream.address,
        sso: sso.url,
        listen: { kind: 'header' },
      });
    });
    after(async () => {
      await gw?.stop();
    });
    const get = (host: string, serial: string | undefined, path = '/', headers: Record<string, string> = {}) =>
      gatewayRequest({
        port: gw.port,
        host,
        path,
        headers: { ...(serial ? { 'X-Device-Serial': serial } : {}), Cookie: alice, ...headers },
      });

    it('lets a compliant device through to the upstream', async () => {
      const n = upstream.requests.length;
      const seen = expectUpstream(await get(DB, ok.serial, '/dashboard?x=1'), gw, n);
      expect(seen.url).to.equal('/dashboard?x=1');
      expect(seen.headers['x-device-serial'], "the client's header is not passed on").to.equal(undefined);
      expect(seen.headers['x-auth-request-email']).to.equal('alice@example.com');
      expectUpstream(await get(DB, ok.serial, '/api/v1/items'), gw, n + 1);
    });

    it('answers a non-compliant device 403 on an API path, naming the failing check; upstream untouched', async () => {
      const n = upstream.requests.length;
      const r = await get(DB, noFirewall.serial, '/api/v1/items');
      expect(r.status, gw.service.output()).to.equal(403);
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
      expect(upstream.requests.length).to.equal(n);
    });

    it('maps hosts to resources: failing a high-tier-only check reaches grafana (medium), not db (high)', async () => {
      const n = upstream.requests.length;
      expectUpstream(await get(GRAFANA, noSip.serial, '/api/health'), gw, n);
      const db = await get(DB, noSip.serial, '/api/health');
      expect(db.status).to.equal(403);
      expect(headerOf(db, 'x-trustgate-reasons')).to.equal('macos_sip');
    });

    it('never lets a non-compliant browser request through (redirect or 403)', async () => {
      const n = upstream.requests.length;
      const r = await get(DB, noFirewall.serial, '/');
      expect(r.status).to.be.oneOf([302, 403]);
      expect(upstream.requests.length).to.equal(n);
    });

    it('redirects a non-compliant browser (302) to the X-Trustgate-Remediation-URL, a page that opens', async () => {
      const n = upstream.requests.length;
      const r = await get(DB, noFirewall.serial, '/');
      expect(r.status, gw.service.output()).to.equal(302);
      const location = headerOf(r, 'location') ?? '';
      expect(location).to.match(new RegExp(`^${tg.ts.url.replace(/\./g, '\\.')}/device\\?t=.+`));
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
      expect(upstream.requests.length).to.equal(n);
      const page = await tg.ts.client.request(location, { headers: { accept: 'text/html' } });
      expect(page.status).to.equal(200);
      expect(page.text).to.contain(noFirewall.serial);
    });

    it('lets a non-compliant device through on a monitor-mode resource', async () => {
      const n = upstream.requests.length;
      expectUpstream(await get(WIKI, noFilevault.serial, '/page'), gw, n);
      expect((await get(DB, noFilevault.serial, '/api/x')).status, 'the same device on an enforce resource').to.equal(
        403,
      );
    });

    it('denies an unknown device and a request without a serial', async () => {
      const n = upstream.requests.length;
      const unknown = await get(DB, 'E2E-NEVER-ENROLLED', '/api/x');
      expect(unknown.status).to.equal(403);
      expect(headerOf(unknown, 'x-trustgate-reasons')).to.equal('unknown_device');
      const none = await get(DB, undefined, '/api/x');
      expect(none.status).to.equal(403);
      expect(headerOf(none, 'x-trustgate-reasons')).to.equal('no_device_serial');
      expect(upstream.requests.length).to.equal(n);
    });

    it('ignores a resource, user or token header the client sends itself', async () => {
      const r = await get(DB, noFirewall.serial, '/api/x', {
        'X-Trustgate-Resource': 'wiki',
        'X-Auth-Request-User': 'admin',
        authorization: 'Bearer not-the-gateway-token',
      });
      expect(r.status).to.equal(403);
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
    });
  });

  describe('nginx with device client certificates (the shipped nginx-listen-mtls.conf)', () => {
    let gw: Gateway;
    let pki: TestPki;
    let okCert: Issued;
    let badCert: Issued;
    /** A device certificate from Trustgate's device CA (POST /api/v1/device-certs). */
    async function issue(serial: string): Promise<Issued & { caPem: string }> {
      const r = await tg.ts.client.request('/api/v1/device-certs', { token: tg.ts.adminToken, body: { serial } });
      const j = r.json as { certificate: string; private_key: string; ca_certificate: string };
      return { certPem: j.certificate, keyPem: j.private_key, caPem: j.ca_certificate };
    }
    before(async () => {
      pki = createTestPki();
      const site = pki.server([DB, GRAFANA, WIKI]);
      const first = await issue(ok.serial);
      okCert = first;
      badCert = await issue(noFirewall.serial);
      gw = await startNginx({
        trustgate: tg.endpoint,
        upstream: upstream.address,
        sso: sso.url,
        listen: { kind: 'mtls', siteCertPem: site.certPem, siteKeyPem: site.keyPem, deviceCaPem: first.caPem },
      });
    });
    after(async () => {
      await gw?.stop();
    });
    const get = (
      host: string,
      cert: { certPem: string; keyPem: string } | undefined,
      path = '/api/x',
      headers: Record<string, string> = {},
      sni = host,
    ) =>
      gatewayRequest({
        port: gw.port,
        host,
        path,
        headers: { Cookie: alice, ...headers },
        tls: { ca: pki.caPem, servername: sni, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
      });

    it('maps the verified certificate to the device: compliant device through, non-compliant 403', async () => {
      const n = upstream.requests.length;
      const seen = expectUpstream(await get(DB, okCert), gw, n);
      expect(seen.headers['x-auth-request-email']).to.equal('alice@example.com');
      const bad = await get(DB, badCert);
      expect(bad.status).to.equal(403);
      expect(headerOf(bad, 'x-trustgate-reasons')).to.equal('macos_firewall');
    });

    it('ignores an X-Device-Serial header: the certificate decides', async () => {
      const r = await get(DB, badCert, '/api/x', { 'X-Device-Serial': ok.serial });
      expect(r.status).to.equal(403);
    });

    it('refuses a client without a device certificate before asking Trustgate', async () => {
      const n = upstream.requests.length;
      const r = await get(DB, undefined, '/api/x', { 'X-Device-Serial': ok.serial });
      expect(r.status).to.equal(400);
      expect(upstream.requests.length).to.equal(n);
    });

    it('refuses a Host that is not the TLS name (SNI) it connected with: 421, nothing decided or proxied', async () => {
      const n = upstream.requests.length;
      // the db certificate's name in SNI, wiki (monitor mode: a non-compliant device would be let in) as Host
      const r = await get(WIKI, badCert, '/page', {}, DB);
      expect(r.status).to.equal(421);
      expect(upstream.requests.length).to.equal(n);
      expectUpstream(await get(WIKI, badCert, '/page'), gw, n);
    });
  });

  describe('nginx fails closed', () => {
    async function through(gw: Gateway): Promise<GatewayReply> {
      try {
        const n = upstream.requests.length;
        const r = await gatewayRequest({
          port: gw.port,
          host: DB,
          path: '/api/x',
          headers: { 'X-Device-Serial': ok.serial, Cookie: alice },
        });
        expect(upstream.requests.length, 'the upstream is never reached').to.equal(n);
        return r;
      } finally {
        await gw.stop();
      }
    }

    it('when Trustgate refuses the token (401, passed on by auth_request)', async () => {
      const r = await through(
        await startNginx({
          trustgate: tg.endpoint,
          upstream: upstream.address,
          sso: sso.url,
          listen: { kind: 'header' },
          token: 'tg_revoked_or_wrong',
        }),
      );
      expect(r.status).to.equal(401);
    });

    it('when Trustgate cannot be reached (500)', async () => {
      const down = { ...tg.endpoint, url: `https://127.0.0.1:${await freePort()}` };
      const r = await through(
        await startNginx({ trustgate: down, upstream: upstream.address, sso: sso.url, listen: { kind: 'header' } }),
      );
      expect(r.status).to.equal(500);
    });

    it("when Trustgate's certificate is not signed by the trusted CA (500)", async () => {
      const other = createTestPki();
      const r = await through(
        await startNginx({
          trustgate: { ...tg.endpoint, caPem: other.caPem },
          upstream: upstream.address,
          sso: sso.url,
          listen: { kind: 'header' },
        }),
      );
      expect(r.status).to.equal(500);
    });
  });

  describe('Caddy forward_auth (serial from a request header standing in for the client certificate)', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startCaddy({ trustgate: tg.endpoint, upstream: upstream.address, sso: sso.url });
    });
    after(async () => {
      await gw?.stop();
    });
    const get = (host: string, serial: string | undefined, path = '/', headers: Record<string, string> = {}) =>
      gatewayRequest({
        port: gw.port,
        host,
        path,
        headers: { ...(serial ? { 'X-Device-Serial': serial } : {}), Cookie: alice, ...headers },
      });

    it('lets a compliant device through to the upstream, which sees the decision', async () => {
      const n = upstream.requests.length;
      const seen = expectUpstream(await get(DB, ok.serial, '/dashboard'), gw, n);
      expect(seen.url).to.equal('/dashboard');
      expect(seen.headers['x-trustgate-decision']).to.equal('allow');
    });

    it("answers a non-compliant device with Trustgate's 403 and reasons, without reaching the upstream", async () => {
      const n = upstream.requests.length;
      const r = await get(DB, noFirewall.serial, '/');
      expect(r.status, gw.service.output()).to.equal(403);
      expect(headerOf(r, 'x-trustgate-decision')).to.equal('deny');
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
      expect(upstream.requests.length).to.equal(n);
    });

    it('maps each host to its resource (grafana allows what db denies)', async () => {
      const n = upstream.requests.length;
      expectUpstream(await get(GRAFANA, noSip.serial), gw, n);
      expect((await get(DB, noSip.serial)).status).to.equal(403);
    });

    it('lets a non-compliant device through on a monitor-mode resource, flagged would-deny', async () => {
      const n = upstream.requests.length;
      const seen = expectUpstream(await get(WIKI, noFilevault.serial, '/page'), gw, n);
      expect(seen.headers['x-trustgate-would-deny']).to.equal('true');
      expect(seen.headers['x-trustgate-reasons']).to.equal('macos_filevault');
    });

    it('denies an unknown device and a request without a serial', async () => {
      const n = upstream.requests.length;
      const unknown = await get(DB, 'E2E-NEVER-ENROLLED');
      expect(unknown.status).to.equal(403);
      expect(headerOf(unknown, 'x-trustgate-reasons')).to.equal('unknown_device');
      expect((await get(DB, undefined)).status).to.equal(403);
      expect(upstream.requests.length).to.equal(n);
    });

    it('ignores a resource or user header the client sends itself', async () => {
      const r = await get(DB, noFirewall.serial, '/', {
        'X-Trustgate-Resource': 'wiki',
        'X-Auth-Request-User': 'admin',
      });
      expect(r.status).to.equal(403);
    });

    it('fails closed (502) when Trustgate cannot be reached', async () => {
      const down = await startCaddy({
        trustgate: { ...tg.endpoint, url: `https://127.0.0.1:${await freePort()}` },
        upstream: upstream.address,
        sso: sso.url,
      });
      try {
        const n = upstream.requests.length;
        const r = await gatewayRequest({
          port: down.port,
          host: DB,
          headers: { 'X-Device-Serial': ok.serial, Cookie: alice },
        });
        expect(r.status).to.equal(502);
        expect(upstream.requests.length).to.equal(n);
      } finally {
        await down.stop();
      }
    });
  });
});
