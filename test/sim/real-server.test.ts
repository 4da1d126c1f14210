import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { createFleet, type Fleet } from '../../server/sim/fleet.js';
import { createHttpTransport, type Transport } from '../../server/sim/transport.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function waitFor(what: string, ms: number, fn: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('simulated fleet against the real server', function () {
  this.timeout(90_000);
  let server: TestServer;
  let transport: Transport;
  let fleet: Fleet;

  before(async () => {
    server = await startTestServer();
    transport = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 8 });
    // 12 hosts, a third failing, 5-minute posture queries compressed 100×.
    fleet = createFleet({
      hosts: 12,
      transport,
      enrollSecret: server.enrollSecret,
      timeScale: 100,
      seed: 11,
      failingShare: 0.34,
      driftPerHour: 0,
      trackAcks: true,
    });
    fleet.start();
  });

  after(async () => {
    await fleet.stop();
    transport.close();
    fleet.engine.close();
    await server.stop();
  });

  const verdict = async (serial: string): Promise<Record<string, unknown>> => {
    const r = await server.client.request(`/api/v1/verdict?serial=${encodeURIComponent(serial)}&resource=prod-db`, {
      token: server.gatewayToken,
    });
    expect(r.status).to.equal(200);
    if (!isRecord(r.json)) throw new Error('verdict is not an object');
    return r.json;
  };

  it('enrolls, reports through /log and gets verdicts that match each host profile', async () => {
    await waitFor(
      'all hosts enrolled and reporting',
      60_000,
      () => fleet.stats().enrolled === 12 && fleet.hostsReporting() === 12,
    );
    const s = fleet.stats();
    expect(s.endpoints.log.failed).to.equal(0);
    expect(s.resultLinesAcked).to.be.greaterThan(12);
    let allowed = 0;
    let denied = 0;
    for (let i = 0; i < 12; i++) {
      const a = fleet.agent(i);
      const v = await verdict(a.serial);
      const failing = a.facets.length > 0;
      expect(v['decision'], `${a.serial} ${a.profile}`).to.equal(failing ? 'deny' : 'allow');
      if (failing) {
        denied++;
        const reasons = Array.isArray(v['reasons']) ? v['reasons'] : [];
        expect(
          reasons.some((r) => isRecord(r) && r['status'] === 'fail'),
          a.profile,
        ).to.equal(true);
      } else allowed++;
    }
    expect(allowed).to.be.greaterThan(0);
    expect(denied).to.be.greaterThan(0);
  });

  it('lets a fixed host in after a recheck (distributed query with accelerate)', async () => {
    const i = [...Array(12).keys()].find((j) => fleet.agent(j).facets.length > 0);
    if (i === undefined) throw new Error('no failing host');
    const serial = fleet.agent(i).serial;
    expect((await verdict(serial))['decision']).to.equal('deny');
    // Scheduled queries run every 3 s at this time scale: stop them and send what is buffered, so only
    // the recheck's distributed query can bring the fixed result (a scheduled run could win the race).
    // Buffered pre-fix lines are stamped on the simulated clock, ahead of real time: they count in the
    // second they arrived in, so the recheck answer, arriving later, replaces them.
    fleet.pauseSchedules();
    await fleet.flushAll();
    fleet.fix(i);
    const r = await server.client.request(`/api/v1/hosts/${encodeURIComponent(serial)}/recheck`, {
      method: 'POST',
      body: {},
      token: server.adminToken,
    });
    expect(r.status).to.be.oneOf([200, 201, 202]);
    const writesBefore = fleet.stats().endpoints.write.ok;
    await waitFor('allow after the fix', 30_000, async () => (await verdict(serial))['decision'] === 'allow');
    expect(fleet.stats().endpoints.write.ok).to.be.greaterThan(writesBefore);
  });
});
