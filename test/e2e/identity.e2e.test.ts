/**
 * Issue #13 end to end: the shipped nginx template (mTLS, the shipped nginx-listen-mtls.conf) and the
 * shipped Caddyfile (mTLS, and plain HTTP with a serial header), each behind the SSO stand-in
 * (support/sso.ts), in front of the real Trustgate, whose device CA is an MDM's (TRUSTGATE_DEVICE_CA_FILE):
 * device certificates are known to Trustgate only because osquery reports them from the devices' keychains
 * (the built-in certificates query). Findings of the issue:
 * 1. a forged X-Forwarded-User never reaches a decision, a link, a break-glass grant or the audit log;
 * 2. a person who is not one of the device's people is denied `device_user_mismatch` on a tier that
 *    requires the pairing (`require_device_user`), whatever identity header the client adds;
 * 3. the crafted-CN certificate (`CN=…NONCOMP01,O=Acme\,CN=…GOOD01`) is not taken as GOOD01;
 * 4. literal placeholders never reach Trustgate or the application;
 * and a keychain certificate maps to its device, a colleague's to nobody, an unknown one is denied.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { caKeyIds } from '../../server/devices/ca-key-ids.js';
import { pairedPacks } from '../devices/pairing-packs.js';
import type { Device } from '../gateway/baseline.js';
import { reportKeychain } from '../gateway/keychain.js';
import { must } from '../support/must.js';
import { gatewayRequest, type GatewayReply } from './support/client.js';
import { startCaddy, startNginx, type Gateway } from './support/gateways.js';
import { createTestPki, type Issued, type TestPki } from './support/pki.js';
import { requireCommand } from './support/processes.js';
import { startSso, type Sso } from './support/sso.js';
import { startTrustgate, type E2eTrustgate } from './support/trustgate.js';
import { startUpstream, UPSTREAM_BODY, type Upstream } from './support/upstream.js';

const DB = 'db.internal.example.com'; // prod-db: tier high, enforce
const GRAFANA = 'grafana.internal.example.com';
const WIKI = 'wiki.internal.example.com';
const PAYROLL = 'payroll.internal.example.com'; // payroll: tier paired (require_device_user), enforce

const now = (): number => Math.floor(Date.now() / 1000);

const headerOf = (r: GatewayReply, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

describe('identity e2e: device by certificate, person by SSO, through the shipped nginx and Caddy', function () {
  let pki: TestPki;
  let dir: string;
  let tg: E2eTrustgate;
  let upstream: Upstream;
  let sso: Sso;
  let aki: string;
  let alice: Device; // compliant, her certificate in her keychain
  let bob: Device; // non-compliant (firewall off); his keychain also holds carol's certificate
  let good: Device; // compliant: the serial the crafted certificate tries to borrow
  let aliceCert: Issued;
  let bobCert: Issued;
  let carolCert: Issued;
  const packs = pairedPacks({ payrollHosts: [PAYROLL] });

  before(async () => {
    requireCommand('nginx');
    requireCommand('caddy');
    pki = createTestPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-e2e-mdm-'));
    fs.writeFileSync(path.join(dir, 'mdm-ca.crt'), pki.caPem);
    aki = must(caKeyIds(pki.caPem)[0], 'the MDM CA key id');
    tg = await startTrustgate({
      packsDir: packs.dir,
      env: { TRUSTGATE_DEVICE_CA_FILE: path.join(dir, 'mdm-ca.crt') },
    });
    upstream = await startUpstream();
    sso = await startSso();
    alice = await tg.device('darwin', 'E2E-ALICE-1');
    bob = await tg.device('darwin', 'E2E-BOB-1', ['macos_firewall']);
    good = await tg.device('darwin', 'E2E-GOOD01');
    await tg.device('darwin', 'E2E-NONCOMP01', ['macos_firewall']);
    aliceCert = pki.device(alice.serial);
    bobCert = pki.device(bob.serial);
    carolCert = pki.device('E2E-CAROL-1');
    await reportKeychain(alice, now(), [{ pem: aliceCert.certPem, aki }]);
    await reportKeychain(
      bob,
      now(),
      [bobCert, carolCert].map((c) => ({ pem: c.certPem, aki })),
    ); // carol's public certificate imported by bob
    // alice's laptop is hers: the MDM inventory names its owner (the device's people, for require_device_user)
    const imported = await tg.ts.client.request('/api/v1/devices/import', {
      token: tg.ts.adminToken,
      body: { text: `serial,owners\n${alice.serial},alice@example.com\n`, format: 'csv', source: 'mdm.csv' },
    });
    if (imported.status !== 200) throw new Error(`inventory import refused: ${imported.status} ${imported.text}`);
  });
  after(async () => {
    await upstream?.stop();
    await sso?.stop();
    await tg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    packs.remove();
  });

  /** A request to the gateway's HTTPS site presenting `cert` (undefined: no client certificate). */
  const viaMtls = (gw: Gateway, cert: Issued | undefined, headers: Record<string, string>, p: string, host: string) =>
    gatewayRequest({
      port: gw.port,
      host,
      path: p,
      headers,
      tls: { ca: pki.caPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
    });

  /**
   * Alice's keychain certificate with her SSO session and a forged X-Forwarded-User reaches the application,
   * which sees the SSO person and not the forged user; returns the headers the application saw.
   */
  async function keychainCertPasses(gw: Gateway, session: string): Promise<IncomingHttpHeaders> {
    const n = upstream.requests.length;
    const r = await viaMtls(gw, aliceCert, { Cookie: session, 'X-Forwarded-User': 'mallory' }, '/api/x', DB);
    expect(r.status, `${r.status} ${r.body}\n${gw.service.output()}`).to.equal(200);
    expect(r.body).to.equal(UPSTREAM_BODY);
    const seen = must(upstream.requests[n], 'the request the upstream saw').headers;
    expect(seen['x-auth-request-email']).to.equal('alice@example.com');
    expect(seen['x-forwarded-user'] ?? '').to.equal('');
    return seen;
  }

  describe('nginx (mTLS, auth_request to SSO, then to Trustgate)', () => {
    let gw: Gateway;
    let aliceSession: string;
    before(async () => {
      const site = pki.server([DB, GRAFANA, WIKI, PAYROLL]);
      gw = await startNginx({
        trustgate: tg.endpoint,
        upstream: upstream.address,
        sso: sso.url,
        listen: { kind: 'mtls', siteCertPem: site.certPem, siteKeyPem: site.keyPem, deviceCaPem: pki.caPem },
      });
      aliceSession = sso.session('alice@example.com');
    });
    after(async () => gw?.stop());
    const get = (cert: Issued | undefined, headers: Record<string, string> = {}, p = '/api/x', host = DB) =>
      viaMtls(gw, cert, headers, p, host);

    it('allows a certificate osquery reported from the device keychain; the app sees the SSO person', async () => {
      await keychainCertPasses(gw, aliceSession);
    });

    it('sends a request without an SSO session to sign in, never to Trustgate or the app', async () => {
      const n = upstream.requests.length;
      const r = await get(aliceCert, { 'X-Auth-Request-Email': 'alice@example.com' }, '/');
      expect(r.status).to.equal(302);
      expect(headerOf(r, 'location')).to.match(new RegExp(`^${sso.url}/oauth2/start\\?rd=`));
      expect(upstream.requests.length).to.equal(n);
    });

    it('denies a colleague’s certificate reported by another device, and an unknown one', async () => {
      for (const cert of [carolCert, pki.device(alice.serial)]) {
        const r = await get(cert, { Cookie: aliceSession });
        expect(r.status).to.equal(403);
        expect(headerOf(r, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      }
    });

    it('denies a person not the device’s on a paired tier (device_user_mismatch); its owner passes', async () => {
      const n = upstream.requests.length;
      const bobSession = sso.session('bob@example.com');
      const forgeries: Array<Record<string, string>> = [
        {},
        { 'X-Auth-Request-Email': 'alice@example.com', 'X-Forwarded-User': 'alice' },
      ];
      for (const forged of forgeries) {
        const r = await get(aliceCert, { Cookie: bobSession, ...forged }, '/api/x', PAYROLL);
        expect(r.status, `${r.status} ${r.body}`).to.equal(403);
        expect(headerOf(r, 'x-trustgate-reasons')).to.equal('device_user_mismatch');
      }
      expect(upstream.requests.length, 'the application never saw them').to.equal(n);
      const owner = await get(aliceCert, { Cookie: aliceSession }, '/api/x', PAYROLL);
      expect(owner.status, `${owner.status} ${owner.body}\n${gw.service.output()}`).to.equal(200);
      expect(must(upstream.requests[n], 'the owner’s request').headers['x-auth-request-email']).to.equal(
        'alice@example.com',
      );
    });

    it('denies the crafted-CN certificate (CN=…NONCOMP01,O=Acme\\,CN=…GOOD01), never taken as GOOD01', async () => {
      const crafted = pki.deviceWithSubject([
        { name: 'organizationName', value: `Acme,CN=${good.serial}` },
        { name: 'commonName', value: 'E2E-NONCOMP01' },
      ]);
      expect(new X509Certificate(crafted.certPem).subject).to.contain(`CN=${good.serial}`);
      const n = upstream.requests.length;
      const r = await get(crafted, { Cookie: aliceSession, 'X-Device-Serial': good.serial });
      expect(r.status).to.equal(403);
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      expect(upstream.requests.length).to.equal(n);
    });

    it('keeps a forged X-Forwarded-User from a decision, a link, a break-glass grant or the audit log', async () => {
      const forged = {
        Cookie: aliceSession,
        'X-Forwarded-User': 'mallory',
        'X-Auth-Request-User': 'mallory',
        'X-Auth-Request-Email': 'mallory@example.com',
      };
      const grants: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await get(bobCert, forged, '/');
        expect(r.status).to.equal(302);
        const link = must(headerOf(r, 'location'), 'the remediation link');
        const page = await tg.ts.client.request(link, { headers: { accept: 'text/html' } });
        expect(page.text).to.contain('alice@example.com');
        expect(page.text).not.to.contain('mallory');
        const t = must(new URL(link).searchParams.get('t'), 'the link token');
        const g = await tg.ts.client.request('/api/v1/break-glass', {
          headers: { 'X-Trustgate-Link': t },
          body: { reason: 'on call for INC-42, need the dashboards', duration: '1h' },
        });
        expect(g.status, g.text).to.be.oneOf([200, 201, 409]);
        if (g.status === 409) expect(g.text).to.contain('limit');
        else grants.push((g.json as { user: string }).user);
      }
      // five forged "users", one person: the break-glass limit (3 per person) counts alice, the SSO person
      expect(grants).to.have.length(3);
      expect([...new Set(grants)]).to.deep.equal(['alice@example.com']);
      const audit = await tg.ts.client.request('/api/v1/audit?limit=1000', { token: tg.ts.adminToken });
      expect(audit.status).to.equal(200);
      expect(audit.text).to.contain('alice@example.com');
      expect(audit.text).not.to.contain('mallory');
    });
  });

  describe('Caddy (mTLS, forward_auth to SSO, then to Trustgate with the certificate itself)', () => {
    let gw: Gateway;
    let aliceSession: string;
    before(async () => {
      const site = pki.server([DB, GRAFANA, WIKI]);
      gw = await startCaddy({
        trustgate: tg.endpoint,
        upstream: upstream.address,
        sso: sso.url,
        mtls: { siteCertPem: site.certPem, siteKeyPem: site.keyPem, deviceCaPem: pki.caPem },
      });
      aliceSession = sso.session('alice@example.com');
    });
    after(async () => gw?.stop());
    const get = (cert: Issued | undefined, headers: Record<string, string> = {}) =>
      viaMtls(gw, cert, headers, '/api/x', DB);

    it('allows a certificate osquery reported from the device keychain; the app sees the SSO person', async () => {
      const seen = await keychainCertPasses(gw, aliceSession);
      expect(seen['x-forwarded-user'], 'removed, not emptied').to.equal(undefined);
      expect(seen['x-trustgate-decision']).to.equal('allow');
    });

    it('denies a non-compliant device’s certificate with its reasons, whatever serial the client names', async () => {
      const r = await get(bobCert, { Cookie: aliceSession, 'X-Device-Serial': alice.serial });
      expect(r.status, `${r.status} ${r.body}`).to.equal(403);
      expect(headerOf(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
    });

    it('denies a colleague’s certificate reported by another device, an unknown one and the crafted CN', async () => {
      const crafted = pki.deviceWithSubject([
        { name: 'organizationName', value: `Acme,CN=${good.serial}` },
        { name: 'commonName', value: 'E2E-NONCOMP01' },
      ]);
      const n = upstream.requests.length;
      for (const cert of [carolCert, pki.device(alice.serial), crafted]) {
        const r = await get(cert, { Cookie: aliceSession, 'X-Device-Serial': good.serial });
        expect(r.status, `${r.status} ${r.body}`).to.equal(403);
        expect(headerOf(r, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      }
      expect(upstream.requests.length, 'the application never saw them').to.equal(n);
    });

    it('refuses a connection without a device certificate (require_and_verify), before any request', async () => {
      const n = upstream.requests.length;
      let failed: unknown;
      await get(undefined, { Cookie: aliceSession, 'X-Device-Serial': alice.serial }).catch((e: unknown) => {
        failed = e;
      });
      expect(failed, 'the TLS handshake is refused').to.be.instanceOf(Error);
      expect(upstream.requests.length).to.equal(n);
    });
  });

  describe('Caddy (forward_auth to SSO, then to Trustgate; plain HTTP, serial header standing in)', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startCaddy({ trustgate: tg.endpoint, upstream: upstream.address, sso: sso.url });
    });
    after(async () => gw?.stop());
    const get = (headers: Record<string, string>) =>
      gatewayRequest({ port: gw.port, host: GRAFANA, path: '/', headers });

    it('sends no placeholder text: no certificate and an SSO answer without an e-mail are absent', async () => {
      const n = upstream.requests.length;
      const r = await get({ Cookie: sso.session(null), 'X-Device-Serial': alice.serial, 'X-Forwarded-User': 'x' });
      expect(r.status, `${r.status} ${r.body}\n${gw.service.output()}`).to.equal(200);
      const seen = must(upstream.requests[n], 'the request the upstream saw');
      for (const [name, value] of Object.entries(seen.headers)) {
        expect(String(value), name).not.to.match(/\{[a-z_.]+[^}]*\}/i);
      }
      expect(seen.headers['x-auth-request-email'] ?? '').to.equal('');
      expect(seen.headers['x-forwarded-user']).to.equal(undefined);
    });

    it('passes the SSO person on, never the client’s; no session → 401', async () => {
      const n = upstream.requests.length;
      const r = await get({
        Cookie: sso.session('Alice@Example.com'),
        'X-Device-Serial': alice.serial,
        'X-Auth-Request-Email': 'mallory@example.com',
      });
      expect(r.status).to.equal(200);
      expect(must(upstream.requests[n], 'seen').headers['x-auth-request-email']).to.equal('Alice@Example.com');
      const none = await get({ 'X-Device-Serial': alice.serial, 'X-Auth-Request-Email': 'alice@example.com' });
      expect(none.status).to.equal(401);
      expect(upstream.requests.length).to.equal(n + 1);
    });

    it('denies a forged user on a non-compliant device with the SSO person on the link', async () => {
      const r = await gatewayRequest({
        port: gw.port,
        host: DB,
        path: '/',
        headers: { Cookie: sso.session('alice@example.com'), 'X-Device-Serial': bob.serial, 'X-Forwarded-User': 'm' },
      });
      expect(r.status).to.equal(403);
      const link = must(headerOf(r, 'x-trustgate-remediation-url'), 'the remediation link');
      const page = await tg.ts.client.request(link, { headers: { accept: 'text/html' } });
      expect(page.text).to.contain('alice@example.com');
    });
  });
});
