/**
 * Carves hardened (issue #15 item 4), through real HTTPS: declared sizes capped by the settings, session
 * ids shown to admins only, a block carrying another host's node key refused, downloads streamed.
 */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollFrom, OSQ, type EnrolledAgent } from './agent.js';

const LINUX = 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json';

describe('carves: caps, who sees session ids, blocks bound to the host, streamed downloads (real HTTPS)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  let a: EnrolledAgent;
  let b: EnrolledAgent;
  let viewerToken: string;
  const payload = Buffer.from('carved bytes, '.repeat(20));
  const blockSize = 64;
  const blockCount = Math.ceil(payload.length / blockSize);
  const block = (i: number) => payload.subarray(i * blockSize, (i + 1) * blockSize).toString('base64');

  const begin = (agent: EnrolledAgent, over: Record<string, unknown> = {}) =>
    agent.post('/carve/begin', {
      block_count: blockCount,
      block_size: blockSize,
      carve_size: payload.length,
      carve_id: 'guid-h15',
      request_id: 'req-h15',
      ...over,
    });

  before(async () => {
    ts = await startTestServer({ env: { TRUSTGATE_CARVE_MAX_BYTES: '1000', TRUSTGATE_MAX_BODY_BYTES: '4096' } });
    a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-A', uuid: 'uuid-carve-a' });
    b = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-B', uuid: 'uuid-carve-b' });
    const v = await ts.client.request('/api/v1/tokens', { token: ts.adminToken, body: { name: 'v', role: 'viewer' } });
    viewerToken = (v.json as { token: string }).token;
  });
  after(() => ts.stop());

  it('refuses declared sizes above the caps with 413 and an osquery error body', async () => {
    const big = await begin(a, { carve_size: 6 * 1024 ** 3, block_size: 1024 ** 2, block_count: 6 * 1024 });
    expect(big.status).to.equal(413);
    expect(big.json)
      .to.have.property('error')
      .that.match(/carve_size/);
    const hugeBlock = await begin(a, { carve_size: 1000, block_size: 1000, block_count: 1 });
    expect(hugeBlock.status, 'a block must fit one 4 KB body as base64').to.equal(200);
    const tooBigBlock = await begin(a, { carve_size: 3500, block_size: 3500, block_count: 1 });
    expect(tooBigBlock.status).to.equal(413);
  });

  it('refuses a block with another host’s node key; the session’s host and key-less blocks pass', async () => {
    const sessionId = ((await begin(a)).json as { session_id: string }).session_id;
    const planted = await ts.client.request(`${OSQ}/carve/block`, {
      body: { block_id: 0, session_id: sessionId, data: Buffer.from('evil').toString('base64'), node_key: b.nodeKey },
    });
    expect(planted.status).to.equal(401);
    for (let i = 0; i < blockCount; i++) {
      const withKey = i % 2 === 0;
      const r = await ts.client.request(`${OSQ}/carve/block`, {
        body: { block_id: i, session_id: sessionId, data: block(i), ...(withKey ? { node_key: a.nodeKey } : {}) },
      });
      expect(r.status, r.text).to.equal(200);
    }
    const data = await ts.client.request(`/api/v1/carves/${sessionId}/data`, { token: ts.adminToken });
    expect(data.status).to.equal(200);
    expect(data.text).to.equal(payload.toString());
    expect(data.headers['transfer-encoding'], 'streamed, not a whole buffer').to.equal('chunked');
    expect(data.headers['content-length']).to.equal(undefined);
  });

  it('lists session ids to admins only', async () => {
    const asAdmin = (await ts.client.request('/api/v1/carves', { token: ts.adminToken })).json as {
      carves: Array<Record<string, unknown>>;
    };
    const asViewer = (await ts.client.request('/api/v1/carves', { token: viewerToken })).json as {
      carves: Array<Record<string, unknown>>;
    };
    expect(asAdmin.carves.length).to.be.greaterThan(0);
    expect(asAdmin.carves.every((c) => typeof c.sessionId === 'string')).to.equal(true);
    expect(asViewer.carves).to.have.length(asAdmin.carves.length);
    expect(asViewer.carves.some((c) => 'sessionId' in c)).to.equal(false);
    expect(asViewer.carves[0]).to.include({ carveId: 'guid-h15' });
  });
});
