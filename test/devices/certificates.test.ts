/**
 * Device certificates in certificate mode, through the real server over HTTPS: a revoked certificate is
 * refused on a resumed TLS session (the revocation set is checked on every request, not at the handshake),
 * a renewed certificate rebinds (audited), and what Trustgate's device CA publishes and issues (CA, CRL,
 * PKCS#12) is what nginx, keychains and the Windows store read.
 */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import * as pkijs from 'pkijs';
import { derOf } from '../../server/devices/x509.js';
import { must } from '../support/must.js';
import { admin, agentClient, auditOf, enroll, issueCert, startModeServer, type ModeServer } from './support.js';

describe('device certificates (certificate mode, real server, HTTPS)', function () {
  this.timeout(60_000);
  let ms: ModeServer;
  before(async () => {
    ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'certificate' });
  });
  after(async () => ms.stop());

  it('certificate mode: a revoked certificate is refused on a resumed TLS session', async () => {
    const cert = await issueCert(ms.ts, 'REVOKE41');
    // a new connection per request, as osquery makes them, resuming the TLS session of the first
    const client = agentClient(ms.ts, cert, { keepAlive: false });
    const agent = must((await enroll(ms.ts, client, { serial: 'REVOKE41', uuid: 'uuid-41' })).agent, 'a node key');
    const before = await agent.post('/config', {});
    expect(before.status).to.equal(200);
    expect(before.sessionReused, 'the second connection resumed the first one’s session').to.equal(true);

    const r = await admin(ms.ts, '/device-certs/revoke', { serial: 'REVOKE41', reason: 'laptop stolen' });
    expect(r.status, r.text).to.equal(200);

    const after = await agent.post('/config', {});
    expect(after.sessionReused, 'still a resumed session: the handshake did not check again').to.equal(true);
    expect(after.status).to.equal(401);
    expect(after.json).to.deep.include({ node_invalid: true });
    expect((after.json as { error: string }).error).to.match(/revoked/);
    const again = await enroll(ms.ts, client, { serial: 'REVOKE41', uuid: 'uuid-41' });
    expect(again.reply.status).to.equal(403);
    expect((again.reply.json as { error: string }).error).to.match(/the client certificate is revoked/);
    client.close();
  });

  it('certificate mode: a renewed certificate presented with the current node key rebinds (audited)', async () => {
    const first = await issueCert(ms.ts, 'RENEW42');
    const c1 = agentClient(ms.ts, first);
    const agent = must((await enroll(ms.ts, c1, { serial: 'RENEW42', uuid: 'uuid-42' })).agent, 'a node key');
    ms.clock.advance(60_000); // the renewal is issued later, so it expires later
    const renewed = await issueCert(ms.ts, 'RENEW42');
    const c2 = agentClient(ms.ts, renewed);
    const r = await c2.request('/api/v1/osquery/config', { body: { node_key: agent.nodeKey } });
    expect(r.status, r.text).to.equal(200);
    const [e] = await auditOf(ms.ts, 'device.cert_rebound', 'RENEW42');
    expect((e?.data.to as { sha256: string }).sha256).to.equal(renewed.sha256);
    expect((e?.data.from as { sha256: string }).sha256).to.equal(first.sha256);
    // the older certificate cannot take the binding back
    const old = await agent.post('/config', {});
    expect(old.status).to.equal(401);
    c1.close();
    c2.close();
  });

  it('publishes the device CA and a CRL naming the revoked certificates (for nginx ssl_crl)', async () => {
    const cert = await issueCert(ms.ts, 'CRL43');
    await admin(ms.ts, '/device-certs/revoke', { sha256: cert.sha256.toUpperCase().replace(/(..)(?!$)/g, '$1:') });
    const ca = await ms.ts.client.request('/device-ca.crt');
    expect(ca.status).to.equal(200);
    const crlPem = (await ms.ts.client.request('/device-ca.crl')).text;
    const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(derOf(crlPem, 'X509 CRL')).buffer);
    const serials = (crl.revokedCertificates ?? []).map((r) =>
      Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex').toUpperCase(),
    );
    expect(serials).to.include(cert.cert_serial);
    const caCert = pkijs.Certificate.fromBER(new Uint8Array(derOf(ca.text, 'CERTIFICATE')).buffer);
    const signed = await crl.verify({ publicKeyInfo: caCert.subjectPublicKeyInfo });
    expect(signed, 'signed by the device CA').to.equal(true);
  });

  it('issues a key, a certificate (CN and SAN URI = the serial) and a PKCS#12 a TLS stack loads', async () => {
    const cert = await issueCert(ms.ts, 'P12-44');
    const x = new X509Certificate(cert.certificate);
    expect(x.subject).to.equal('CN=P12-44');
    expect(x.subjectAltName).to.equal('URI:urn:trustgate:device:P12-44');
    expect(() =>
      tls.createSecureContext({ pfx: Buffer.from(cert.pkcs12, 'base64'), passphrase: cert.pkcs12_password }),
    ).to.not.throw();
    expect(() => tls.createSecureContext({ pfx: Buffer.from(cert.pkcs12, 'base64'), passphrase: 'wrong' })).to.throw();
    const list = (await admin(ms.ts, '/device-certs?serial=P12-44')).json as {
      certificates: Array<{ sha256: string }>;
    };
    expect(list.certificates.map((c) => c.sha256)).to.deep.equal([cert.sha256]);
  });
});
