/**
 * Issue #13 with the simulated agent (server/sim): a simulated osqueryd enrolls in certificate mode,
 * presenting its device certificate from Trustgate's device CA (as osquery's --tls_client_cert), so its host
 * is bound to that certificate; the same certificate presented to the shipped nginx (mTLS) behind the SSO
 * stand-in is mapped by Trustgate to that device (the bound certificate), with no X-Device-Serial at all.
 */
import { expect } from 'chai';
import { createFleet, type Fleet } from '../../server/sim/fleet.js';
import { createHttpTransport, type Transport } from '../../server/sim/transport.js';
import { must } from '../support/must.js';
import { gatewayRequest } from './support/client.js';
import { startNginx, type Gateway } from './support/gateways.js';
import { createTestPki } from './support/pki.js';
import { requireCommand } from './support/processes.js';
import { startSso, type Sso } from './support/sso.js';
import { startTrustgate, type E2eTrustgate } from './support/trustgate.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const DB = 'db.internal.example.com';

describe('identity e2e: the simulated agent enrolls with its certificate, the gateway maps it', function () {
  let tg: E2eTrustgate;
  let upstream: Upstream;
  let sso: Sso;
  let gw: Gateway;
  let fleet: Fleet;
  const transports: Transport[] = [];

  after(async () => {
    await fleet?.stop();
    for (const t of transports) t.close();
    fleet?.engine.close();
    await gw?.stop();
    await upstream?.stop();
    await sso?.stop();
    await tg?.stop();
  });

  it('decides for the device the simulated agent enrolled with that certificate', async () => {
    requireCommand('nginx');
    tg = await startTrustgate({ env: { TRUSTGATE_ENROLL_MODE: 'certificate' } });
    upstream = await startUpstream();
    sso = await startSso();
    const shared = createHttpTransport({ url: tg.ts.url, caPem: tg.ts.caPem, maxSockets: 2 });
    transports.push(shared);
    fleet = createFleet({
      hosts: 1,
      transport: shared,
      enrollSecret: tg.ts.enrollSecret,
      profile: 'compliant',
      platformMix: { darwin: 1, windows: 0, linux: 0 },
      autoTick: false,
      driftPerHour: 0,
      seed: 13,
    });
    const serial = fleet.agent(0).serial;
    const issued = await tg.ts.client.request('/api/v1/device-certs', {
      token: tg.ts.adminToken,
      body: { serial },
    });
    expect(issued.status, issued.text).to.equal(201);
    const cert = issued.json as { certificate: string; private_key: string; ca_certificate: string };
    const own = createHttpTransport({
      url: tg.ts.url,
      caPem: tg.ts.caPem,
      cert: cert.certificate,
      key: cert.private_key,
      maxSockets: 1,
    });
    transports.push(own);
    fleet.ownConnection(0, own);
    await fleet.startNow();
    expect(fleet.stats().enrolled, 'the simulated agent enrolled with its certificate').to.equal(1);

    const pki = createTestPki();
    const site = pki.server([DB]);
    gw = await startNginx({
      trustgate: tg.endpoint,
      upstream: upstream.address,
      sso: sso.url,
      listen: { kind: 'mtls', siteCertPem: site.certPem, siteKeyPem: site.keyPem, deviceCaPem: cert.ca_certificate },
    });
    const r = await gatewayRequest({
      port: gw.port,
      host: DB,
      path: '/api/x',
      headers: { Cookie: sso.session('dana@example.com') },
      tls: { ca: pki.caPem, cert: cert.certificate, key: cert.private_key },
    });
    // decided for the simulated device (it has not reported its posture yet: missing data denies), never
    // an unknown certificate or an unknown device
    const reasons = String(r.headers['x-trustgate-reasons'] ?? '');
    expect(r.status, `${r.status} ${reasons}\n${gw.service.output()}`).to.be.oneOf([200, 403]);
    expect(reasons).not.to.contain('unknown_device_certificate');
    expect(reasons).not.to.contain('unknown_device');
    expect(reasons).not.to.contain('no_device_serial');
    const q = new URLSearchParams({ serial, resource: 'prod-db' });
    const v = await tg.ts.client.request(`/api/v1/verdict?${q}`, { token: tg.ts.gatewayToken });
    const verdict = v.json as { decision: string; device: { hostname: string } | null };
    expect(must(verdict.device, 'the device is known').hostname).to.equal(fleet.agent(0).hostname);
    expect(r.status === 200 ? 'allow' : 'deny').to.equal(verdict.decision);
  });
});
