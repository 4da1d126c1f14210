/**
 * Issue #15 item 5: one agent cannot grow storage with query names Trustgate never scheduled. Over the real
 * osquery endpoints: results of 50 invented names (and of a pack that does not exist) are acknowledged with
 * `{}` — never an `error`, which would keep them buffered on the agent — counted in
 * trustgate_results_unscheduled_total, and not stored; a scheduled pack query in the same batch is stored.
 * Answers to distributed query ids Trustgate never issued are acknowledged and counted too.
 */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollFrom, OSQ, snapshotLine, type EnrolledAgent } from '../osquery/agent.js';

const counter = async (ts: TestServer, endpoint: string): Promise<number> => {
  const r = await ts.client.request('/metrics');
  const m = new RegExp(`^trustgate_results_unscheduled_total\\{endpoint="${endpoint}"\\} (\\d+)$`, 'm').exec(r.text);
  return Number(m?.[1] ?? 0);
};

describe('results of queries Trustgate did not schedule (issue #15, item 5)', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let agent: EnrolledAgent;
  before(async () => {
    ts = await startTestServer();
    agent = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
      serial: 'GROW-1',
      uuid: 'uuid-grow-1',
    });
  });
  after(async () => ts.stop());

  it('acknowledges 50 invented query names with {}, counts them, stores only the scheduled query', async () => {
    const now = Math.floor(Date.now() / 1000);
    const invented = Array.from({ length: 50 }, (_, i) =>
      snapshotLine(i % 2 ? `invented_${i}` : `pack/nopack/q${i}`, now, [{ blob: 'x'.repeat(1000) }]),
    );
    const real = snapshotLine('pack/posture-common/osquery_healthy', now, [
      { version: '5.13.1', config_valid: '1', watcher: '1', start_time: String(now) },
    ]);
    const r = await agent.post('/log', { log_type: 'result', data: [...invented, real] });
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({});
    expect(await counter(ts, 'log')).to.equal(50);
    const stored = await ts.client.request('/api/v1/hosts/GROW-1/results', { token: ts.adminToken });
    expect(stored.status, stored.text).to.equal(200);
    const queries = (stored.json as { results: Array<{ query: string }> }).results.map((x) => x.query);
    expect(queries).to.include('posture-common/osquery_healthy');
    expect(queries.filter((q) => /invented|nopack/.test(q))).to.deep.equal([]);
  });

  it('acknowledges answers to distributed query ids it never issued with {} and counts them', async () => {
    const before = await counter(ts, 'distributed_write');
    const r = await ts.client.request(`${OSQ}/distributed/write`, {
      body: {
        node_key: agent.nodeKey,
        queries: { 'never-issued-1': [{ a: '1' }], 'never-issued-2': [] },
        statuses: {},
      },
    });
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({});
    expect((await counter(ts, 'distributed_write')) - before).to.equal(2);
  });
});
