/** A person looking at the remediation page makes their device poll fast, so a recheck lands in seconds. */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollDevice } from '../gateway/baseline.js';

describe('remediation page → accelerated polling', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.stop();
  });

  it('answers the device of an opened remediation page with an integer accelerate, and no other device', async () => {
    const watched = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'ATTN-1');
    const other = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'ATTN-2');
    const now = Math.floor(Date.now() / 1000);
    await watched.report({ unixTime: now, failing: ['macos_firewall'] });
    await other.report({ unixTime: now, failing: ['macos_firewall'] });
    expect((await watched.agent.post('/distributed/read', {})).json).not.to.have.property('accelerate');

    const v = (
      await ts.client.request('/api/v1/verdict?serial=ATTN-1&resource=prod-db&user=alice', { token: ts.gatewayToken })
    ).json as { remediation_page: string };
    const page = await ts.client.request(new URL(v.remediation_page).pathname + new URL(v.remediation_page).search);
    expect(page.status).to.equal(200);

    const read = (await watched.agent.post('/distributed/read', {})).json as { queries: object; accelerate?: unknown };
    expect(read.queries).to.deep.equal({});
    expect(read.accelerate)
      .to.be.a('number')
      .that.satisfies((n: number) => Number.isInteger(n) && n > 0 && n <= 600);
    expect((await other.agent.post('/distributed/read', {})).json).not.to.have.property('accelerate');
  });
});
