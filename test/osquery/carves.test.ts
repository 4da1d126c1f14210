/**
 * Carves hardened (issue #15 item 4), through real HTTPS: only carves Trustgate asked for begin, declared
 * sizes capped by the settings, session ids shown to admins only, a block carrying another host's node key
 * refused, downloads streamed.
 */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { agentFor, enrollBody, enrollFrom, OSQ, type EnrolledAgent } from './agent.js';
import { askForCarve } from './carve-request.js';

const LINUX = 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json';

describe('carves: caps, who sees session ids, blocks bound to the host, streamed downloads (real HTTPS)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  let a: EnrolledAgent;
  let b: EnrolledAgent;
  let viewerToken: string;
  const clock = new ManualClock(Date.now());
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
    ts = await startTestServer({
      clock,
      env: { TRUSTGATE_CARVE_MAX_BYTES: '1000', TRUSTGATE_MAX_BODY_BYTES: '4096' },
    });
    a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-A', uuid: 'uuid-carve-a' });
    b = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-B', uuid: 'uuid-carve-b' });
    const v = await ts.client.request('/api/v1/tokens', { token: ts.adminToken, body: { name: 'v', role: 'viewer' } });
    viewerToken = (v.json as { token: string }).token;
  });
  after(() => ts.stop());

  it('refuses declared sizes above the caps with 413 and an osquery error body', async () => {
    await askForCarve(ts, a);
    const big = await begin(a, { carve_size: 6 * 1024 ** 3, block_size: 1024 ** 2, block_count: 6 * 1024 });
    expect(big.status).to.equal(413);
    expect(big.json)
      .to.have.property('error')
      .that.match(/carve_size/);
    const hugeBlock = await begin(a, { carve_size: 1000, block_size: 1000, block_count: 1, carve_id: 'fits' });
    expect(hugeBlock.status, 'a block must fit one 4 KB body as base64').to.equal(200);
    const tooBigBlock = await begin(a, { carve_size: 3500, block_size: 3500, block_count: 1 });
    expect(tooBigBlock.status).to.equal(413);
  });

  it('begins only carves it asked for: before the answer one per query, after it the GUIDs it lists', async () => {
    const c = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-C', uuid: 'uuid-carve-c' });
    const unasked = await begin(c, { carve_id: 'unasked' });
    expect(unasked.status).to.equal(403);
    expect(unasked.json)
      .to.have.property('error')
      .that.match(/no carve was asked of this host/);
    const live = await ts.client.request('/api/v1/queries', {
      token: ts.adminToken,
      body: { sql: 'SELECT version FROM osquery_info', serials: [c.serial] },
    });
    expect(live.status).to.equal(201);
    expect((await begin(c, { carve_id: 'after-other-query' })).status, 'a live query that carves nothing').to.equal(
      403,
    );

    // osquery starts the carve on its own thread: the start may arrive before the query's answer
    const first = await askForCarve(ts, c);
    expect((await begin(c, { carve_id: 'early' })).status).to.equal(200);
    expect((await begin(c, { carve_id: 'extra' })).status, 'one query, one carve').to.equal(403);
    await first.answer('early');

    const second = await askForCarve(ts, c, '/var/log/auth.log');
    await second.answer('listed');
    const listed = await begin(c, { carve_id: 'listed' });
    expect(listed.status).to.equal(200);
    expect((await begin(c, { carve_id: 'unlisted' })).status, 'answered queries do not list it').to.equal(403);
    const retried = await begin(c, { carve_id: 'listed' });
    expect(retried.json, 'a start retried with the same sizes gets its session back').to.deep.equal(listed.json);
    expect((await begin(c, { carve_id: 'listed', carve_size: 64, block_count: 1 })).status).to.equal(409);

    await askForCarve(ts, c, '/tmp/late');
    clock.advance(61 * 60_000);
    const stale = await begin(c, { carve_id: 'late' });
    expect(stale.status, 'asked over an hour ago').to.equal(403);
  });

  it('refuses a block with another host’s node key; the session’s host and key-less blocks pass', async () => {
    await askForCarve(ts, a, '/etc/passwd');
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

  it('refuses a key-less block for a host whose osquery (5.23+) sends its key with every block', async () => {
    const body = enrollBody(ts.enrollSecret, LINUX, { serial: 'CARVE-NEW', uuid: 'uuid-carve-new' });
    const info = body.host_details?.osquery_info;
    if (!info) throw new Error('the fixture has no osquery_info');
    info.version = '5.23.1';
    const enrolled = await ts.client.request(`${OSQ}/enroll`, { body });
    const modern = agentFor(ts.client, (enrolled.json as { node_key: string }).node_key, 'CARVE-NEW');
    await askForCarve(ts, modern);
    const sessionId = ((await begin(modern, { carve_id: 'modern' })).json as { session_id: string }).session_id;
    const keyless = await ts.client.request(`${OSQ}/carve/block`, {
      body: { block_id: 0, session_id: sessionId, data: block(0) },
    });
    expect(keyless.status).to.equal(401);
    const keyed = await ts.client.request(`${OSQ}/carve/block`, {
      body: { block_id: 0, session_id: sessionId, data: block(0) },
      headers: { authorization: `NodeKey ${modern.nodeKey}` },
    });
    expect(keyed.status, keyed.text).to.equal(200);
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
