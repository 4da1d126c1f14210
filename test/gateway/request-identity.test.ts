/**
 * Issue #13, the device and the person on a forward-auth request, through the real path (the real server
 * over HTTPS, a real SQLite file, devices enrolled and reporting as osqueryd does):
 * - a certificate Trustgate issued maps to its device, by SHA-1 (nginx), SHA-256 (Caddy), or the
 *   certificate itself (nginx's URL-encoded PEM, Caddy's base64 DER); a revoked one maps to nobody;
 * - a certificate osquery reports from a device's keychain (the built-in query) maps to that device only
 *   when it names that device and the device CA issued it: a colleague's certificate does not;
 * - an unknown certificate denies `unknown_device_certificate`, whatever X-Device-Serial says; a
 *   certificate wins over a serial header that disagrees;
 * - empty values and literal placeholders are absent;
 * - the person comes only from the SSO header (canonical e-mail), never X-Forwarded-User.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { caKeyIds } from '../../server/devices/ca-key-ids.js';
import { DEVICE_CERTS_QUERY_KEY } from '../../server/domain/device-certs-query.js';
import type { Reply } from '../support/http.js';
import { must } from '../support/must.js';
import { createTestPki, type TestPki } from '../e2e/support/pki.js';
import { admin, compliantDevice, issueCert, startModeServer, type ModeServer } from '../devices/support.js';
import type { Device } from './baseline.js';
import { reportKeychain, sha1Of } from './keychain.js';

const header = (r: Reply, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};
const derB64Of = (pem: string): string => new X509Certificate(pem).raw.toString('base64');

function authz(ms: ModeServer, headers: Record<string, string>): Promise<Reply> {
  return ms.ts.client.request('/api/v1/authz', {
    token: ms.ts.gatewayToken,
    headers: { 'X-Trustgate-Resource': 'prod-db', ...headers },
  });
}

describe('forward auth: the device by its certificate, the person by SSO (issue #13)', function () {
  this.timeout(30_000);

  describe('certificates Trustgate issued', () => {
    let ms: ModeServer;
    let ok: Device;
    let bad: Device;
    let okCert: { certificate: string; sha256: string };
    let badCert: { certificate: string; sha256: string };
    before(async () => {
      ms = await startModeServer({});
      ok = await compliantDevice(ms, 'darwin', 'CERT-OK-1');
      bad = await compliantDevice(ms, 'darwin', 'CERT-BAD-1');
      await bad.report({ unixTime: ms.clock.now() / 1000, failing: ['macos_firewall'] });
      okCert = await issueCert(ms.ts, ok.serial);
      badCert = await issueCert(ms.ts, bad.serial);
    });
    after(async () => ms?.stop());

    it('maps SHA-1 (nginx), SHA-256 (Caddy) and the certificate itself to the device', async () => {
      const allow = async (h: Record<string, string>) => {
        const r = await authz(ms, h);
        expect(r.status, JSON.stringify(h).slice(0, 80)).to.equal(200);
      };
      await allow({ 'X-Client-Cert-Fingerprint': sha1Of(okCert.certificate) });
      await allow({ 'X-Client-Cert-Fingerprint': okCert.sha256 });
      await allow({ 'X-Client-Cert-Fingerprint': okCert.sha256.toUpperCase().replace(/(..)(?!$)/g, '$1:') });
      await allow({ 'X-Client-Cert': encodeURIComponent(okCert.certificate) });
      await allow({ 'X-Client-Cert': derB64Of(okCert.certificate) });
      const r = await authz(ms, { 'X-Client-Cert-Fingerprint': sha1Of(badCert.certificate) });
      expect(r.status).to.equal(403);
      expect(header(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
    });

    it('denies an unknown certificate unknown_device_certificate, whatever X-Device-Serial says', async () => {
      const other = createTestPki().device(ok.serial); // names the device, but nobody issued or reported it
      for (const h of <Array<Record<string, string>>>[
        { 'X-Client-Cert-Fingerprint': sha1Of(other.certPem), 'X-Device-Serial': ok.serial },
        { 'X-Client-Cert': encodeURIComponent(other.certPem) },
        { 'X-Client-Cert-Fingerprint': 'not-a-fingerprint', 'X-Device-Serial': ok.serial },
        { 'X-Client-Cert': 'garbage', 'X-Device-Serial': ok.serial },
      ]) {
        const r = await authz(ms, h);
        expect(r.status).to.equal(403);
        expect(header(r, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      }
    });

    it('lets the certificate win over a serial header that disagrees', async () => {
      const r = await authz(ms, { 'X-Client-Cert-Fingerprint': badCert.sha256, 'X-Device-Serial': ok.serial });
      expect(r.status).to.equal(403);
      expect(header(r, 'x-trustgate-reasons')).to.equal('macos_firewall');
      const g = await authz(ms, { 'X-Client-Cert-Fingerprint': okCert.sha256, 'X-Device-Serial': bad.serial });
      expect(g.status).to.equal(200);
    });

    it('takes empty values and literal placeholders as absent', async () => {
      const serialOnly = await authz(ms, {
        'X-Client-Cert-Fingerprint': '{http.request.tls.client.fingerprint}',
        'X-Client-Cert': '',
        'X-Device-Serial': ok.serial,
      });
      expect(serialOnly.status, 'no certificate: the serial header').to.equal(200);
      const none = await authz(ms, {
        'X-Client-Cert-Fingerprint': '{http.request.tls.client.fingerprint}',
        'X-Device-Serial': '{trustgate_device_serial}',
      });
      expect(none.status).to.equal(403);
      expect(header(none, 'x-trustgate-reasons')).to.equal('no_device_serial');
    });

    it('maps a revoked certificate to nobody', async () => {
      const d = await compliantDevice(ms, 'darwin', 'CERT-REVOKED-1');
      const c = await issueCert(ms.ts, d.serial);
      expect((await authz(ms, { 'X-Client-Cert-Fingerprint': sha1Of(c.certificate) })).status).to.equal(200);
      expect((await admin(ms.ts, '/device-certs/revoke', { sha256: c.sha256, reason: 'lost' })).status).to.be.oneOf([
        200, 201,
      ]);
      for (const fp of [c.sha256, sha1Of(c.certificate)]) {
        const r = await authz(ms, { 'X-Client-Cert-Fingerprint': fp });
        expect(r.status).to.equal(403);
        expect(header(r, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      }
    });

    it('takes the person only from the SSO header, canonical, never X-Forwarded-User', async () => {
      const userOnPage = async (headers: Record<string, string>): Promise<string> => {
        const r = await authz(ms, { 'X-Client-Cert-Fingerprint': badCert.sha256, ...headers });
        expect(r.status).to.equal(403);
        const link = must(header(r, 'x-trustgate-remediation-url'), 'the remediation URL');
        return (await ms.ts.client.request(link, { headers: { accept: 'text/html' } })).text;
      };
      const page = await userOnPage({ 'X-Auth-Request-Email': ' Carol@Example.COM ', 'X-Forwarded-User': 'mallory' });
      expect(page).to.contain('carol@example.com');
      expect(page).not.to.contain('mallory');
      const forged = await userOnPage({ 'X-Forwarded-User': 'mallory', 'X-Auth-Request-User': 'mallory2' });
      expect(forged).not.to.contain('mallory');
      const q = new URLSearchParams({ serial: bad.serial, resource: 'prod-db', user: 'Dave@Example.com' });
      const v = await ms.ts.client.request(`/api/v1/verdict?${q}`, { token: ms.ts.gatewayToken });
      expect((v.json as { user: string | null }).user).to.equal('dave@example.com');
      q.set('user', 'not an e-mail');
      const n = await ms.ts.client.request(`/api/v1/verdict?${q}`, { token: ms.ts.gatewayToken });
      expect((n.json as { user: string | null }).user).to.equal(null);
    });
  });

  describe('certificates osquery reports from the keychain (device CA of an MDM)', () => {
    let ms: ModeServer;
    let pki: TestPki;
    let aki: string;
    let dir: string;
    before(async () => {
      pki = createTestPki();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-mdm-ca-'));
      fs.writeFileSync(path.join(dir, 'mdm-ca.crt'), pki.caPem);
      aki = must(caKeyIds(pki.caPem)[0], 'the CA key id');
      ms = await startModeServer({ TRUSTGATE_DEVICE_CA_FILE: path.join(dir, 'mdm-ca.crt') });
    });
    after(async () => {
      await ms?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("maps a certificate the device's keychain holds to that device, and a colleague's to nobody", async () => {
      const alice = await compliantDevice(ms, 'darwin', 'KEYCHAIN-ALICE');
      const bob = await compliantDevice(ms, 'darwin', 'KEYCHAIN-BOB');
      const aliceCert = pki.device(alice.serial);
      const bobCert = pki.device(bob.serial);
      const now = ms.clock.now() / 1000;
      const fp = { 'X-Client-Cert-Fingerprint': sha1Of(aliceCert.certPem) };
      expect(header(await authz(ms, fp), 'x-trustgate-reasons'), 'not reported yet').to.equal(
        'unknown_device_certificate',
      );
      // bob imported alice's public certificate into his keychain: it does not name bob, so it is nobody's
      await reportKeychain(bob, now, [{ pem: aliceCert.certPem, aki }]);
      expect(header(await authz(ms, fp), 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      await reportKeychain(alice, now, [{ pem: aliceCert.certPem, aki }]);

      expect((await authz(ms, fp)).status).to.equal(200);
      expect((await authz(ms, { 'X-Client-Cert': derB64Of(aliceCert.certPem) })).status).to.equal(200);
      // another CA's certificate naming bob (authority key id not the device CA's) is not taken
      await reportKeychain(bob, now, [{ pem: bobCert.certPem, aki: 'ab'.repeat(20) }]);
      const b = await authz(ms, { 'X-Client-Cert-Fingerprint': sha1Of(bobCert.certPem) });
      expect(header(b, 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
      // a new report replaces the last: the certificate left alice's keychain
      await reportKeychain(alice, now + 60, []);
      expect(header(await authz(ms, fp), 'x-trustgate-reasons')).to.equal('unknown_device_certificate');
    });

    it('puts the built-in certificates query in every device config', async () => {
      const d = await compliantDevice(ms, 'darwin', 'KEYCHAIN-CONFIG');
      const config = (await d.agent.post('/config', {})).json as { packs: Record<string, { queries: object }> };
      const [pack, query] = DEVICE_CERTS_QUERY_KEY.split('/');
      const q = (config.packs[pack ?? ''] as { queries: Record<string, { query: string }> } | undefined)?.queries[
        query ?? ''
      ];
      expect(q?.query).to.match(/FROM certificates c, system_info s WHERE c\.ca = 0/);
    });
  });
});
