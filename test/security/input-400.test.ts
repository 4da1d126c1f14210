/**
 * Issue #15 item 8: input that used to answer 500 answers 400 with a message — a 5,000-deep array inside a
 * result row value (a RangeError in normalize.ts) and a YAML alias bomb in a policy PUT — over real HTTPS.
 */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollFrom, OSQ, type EnrolledAgent } from '../osquery/agent.js';

/** `[[[…"x"…]]]` nested `depth` deep, as JSON text (built as text: JSON.stringify itself would overflow). */
const deepArrayText = (depth: number): string => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;

/** The billion-laughs document: each level holds nine aliases of the one before. */
function aliasBomb(levels = 9): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${new Array(9).fill(`*a${i - 1}`).join(',')}]`);
  lines.push(`tiers: {high: {max_age: 15m, checks: *a${levels - 1}}}`);
  return `${lines.join('\n')}\n`;
}

describe('input that used to answer 500 (issue #15, item 8)', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let agent: EnrolledAgent;
  before(async () => {
    ts = await startTestServer();
    agent = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
      serial: 'DEEP-1',
      uuid: 'uuid-deep-1',
    });
  });
  after(async () => ts.stop());

  it('a 5,000-deep array in a result row value: 400 with a message, and the agent still served', async () => {
    const line = `{"name":"pack/baseline/osquery_healthy","hostIdentifier":"h","unixTime":1,"epoch":0,"counter":0,
      "action":"added","columns":{"version":${deepArrayText(5000)}}}`;
    const raw = `{"node_key":"${agent.nodeKey}","log_type":"result","data":[${line}]}`;
    const r = await ts.client.request(`${OSQ}/log`, { raw });
    expect(r.status, r.text).to.equal(400);
    expect((r.json as { error: string }).error).to.match(/deeper than 64 levels/);
    // just under the body limit but deep inside a row value: the row check answers too
    const shallow = `{"node_key":"${agent.nodeKey}","log_type":"result","data":[${line.replace(
      deepArrayText(5000),
      deepArrayText(60),
    )}]}`;
    const ok = await ts.client.request(`${OSQ}/log`, { raw: shallow });
    expect(ok.status, ok.text).to.be.below(500);
    expect((await agent.post('/config', {})).status).to.equal(200);
  });

  it('a 5,000-deep JSON body to the admin API: 400 with a message', async () => {
    const r = await ts.client.request('/api/v1/policy/dry-run', {
      raw: `{"policy":${deepArrayText(5000)}}`,
      token: ts.adminToken,
    });
    expect(r.status, r.text).to.equal(400);
    expect(r.text).to.match(/deeper than 64 levels/);
  });

  it('a YAML alias bomb in a policy PUT: 400 with a message, and the policy unchanged', async () => {
    const before = (await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json;
    for (const path of ['/api/v1/policy', '/api/v1/policy/dry-run']) {
      const r = await ts.client.request(path, {
        method: path.endsWith('dry-run') ? 'POST' : 'PUT',
        body: { text: aliasBomb(), format: 'yaml' },
        token: ts.adminToken,
      });
      expect(r.status, `${path}: ${r.text}`).to.equal(400);
      expect(r.text).to.match(/invalid YAML: .*alias/i);
    }
    expect((await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json).to.deep.equal(before);
  });

  it('a 5,000-deep YAML policy: 400 with a message', async () => {
    const r = await ts.client.request('/api/v1/policy/dry-run', {
      body: { text: `tiers: ${deepArrayText(5000)}\n`, format: 'yaml' },
      token: ts.adminToken,
    });
    expect(r.status, r.text).to.equal(400);
  });
});
