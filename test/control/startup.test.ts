/**
 * Warm start: verdicts come back from persisted check states, and results stored after the last
 * persisted states (a crash between the durable commit and the write-behind of states) are re-evaluated.
 */
import { expect } from 'chai';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from '../support/server.js';
import { enrollDevice } from '../gateway/baseline.js';

describe('server start with stored data', function () {
  this.timeout(60_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.stop();
  });

  const verdict = async (serial: string) => {
    const r = await ts.client.request(`/api/v1/verdict?serial=${serial}&resource=prod-db`, { token: ts.gatewayToken });
    return r.json as { decision: string; reasons: Array<{ check: string; status: string }> };
  };

  it('restores verdicts after a restart and re-evaluates results whose check states were never persisted', async () => {
    const ok = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'WARM-OK');
    const bad = await enrollDevice(ts.client, ts.enrollSecret, 'linux', 'WARM-BAD');
    const now = Math.floor(Date.now() / 1000);
    await ok.report({ unixTime: now });
    await bad.report({ unixTime: now, failing: ['linux_firewall'] });
    expect((await verdict('WARM-OK')).decision).to.equal('allow');
    expect((await verdict('WARM-BAD')).reasons.map((r) => r.check)).to.deep.equal(['linux_firewall']);

    await ts.restart();
    expect((await verdict('WARM-OK')).decision, 'from persisted states').to.equal('allow');

    // simulate a crash gap: WARM-BAD's states were never written, and the watermark predates its results
    const db = new Database(path.join(ts.dataDir, 'trustgate.db'));
    db.prepare(`DELETE FROM check_states WHERE host_id = (SELECT id FROM hosts WHERE serial = 'WARM-BAD')`).run();
    db.prepare(`UPDATE settings SET value = '0' WHERE key = 'check_states_persisted_until'`).run();
    db.close();
    await ts.restart();
    const v = await verdict('WARM-BAD');
    expect(v.decision).to.equal('deny');
    expect(
      v.reasons.map((r) => r.check),
      're-evaluated from the stored results',
    ).to.deep.equal(['linux_firewall']);
  });
});
