/**
 * The order of results of one (device, query), through the real path (HTTPS, SQLite file, the shipped
 * baseline), on a manual clock so "the same second" is exact:
 *
 * results are ordered by the second they were observed in (the agent's, capped by the second they
 * arrived in, so a clock running ahead cannot stamp the future), then by arrival (a sequence kept in the
 * store). A recheck answer is stamped in whole seconds like osquery's own results; it must beat a
 * failing result that an agent stamped in the future and that arrived earlier in the same second, and a
 * scheduled failing result arriving after a passing answer in the same second must win in turn.
 */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { CHECK_ROWS, enrollDevice, shippedChecks, type Device } from '../gateway/baseline.js';

const CHECKS = shippedChecks();
const FIREWALL = must(CHECK_ROWS['macos_firewall'], 'the macos_firewall rows');

describe('result order: observed second, then arrival (recheck against same-second results)', function () {
  this.timeout(30_000);
  const clock = new ManualClock(Date.UTC(2026, 10, 30, 12, 0, 0, 0));
  let ts: TestServer;
  let n = 0;
  const second = (): number => Math.floor(clock.now() / 1000);
  /** Moves the clock to `ms` milliseconds into the current second (forward only). */
  const toMillis = (ms: number): void => clock.set(second() * 1000 + ms);

  before(async () => {
    ts = await startTestServer({ clock });
  });
  after(async () => {
    await ts.stop();
  });

  const decision = async (serial: string): Promise<{ decision: string; reasons: string[] }> => {
    const r = await ts.client.request(`/api/v1/verdict?serial=${serial}&resource=prod-db`, { token: ts.gatewayToken });
    expect(r.status, r.text).to.equal(200);
    const v = r.json as { decision: string; reasons: Array<{ check: string }> };
    return { decision: v.decision, reasons: v.reasons.map((x) => x.check) };
  };

  /** Queues a recheck of the device's failing checks and takes the queued ids from distributed/read. */
  async function recheckIds(d: Device): Promise<Map<string, string>> {
    const q = await ts.client.request(`/api/v1/hosts/${d.serial}/recheck`, {
      token: ts.adminToken,
      method: 'POST',
      body: {},
    });
    expect(q.status, q.text).to.equal(202);
    const read = await d.agent.post('/distributed/read', {});
    const ids = new Map<string, string>();
    for (const [id, sql] of Object.entries((read.json as { queries: Record<string, string> }).queries)) {
      const check = [...CHECKS.values()].find((c) => c.sql === sql);
      if (check) ids.set(check.id, id);
    }
    return ids;
  }

  async function answer(d: Device, ids: Map<string, string>, rows: 'pass' | 'fail'): Promise<void> {
    const queries: Record<string, unknown> = {};
    const statuses: Record<string, number> = {};
    for (const [check, id] of ids) {
      queries[id] = must(CHECK_ROWS[check], `the rows of ${check}`)[rows];
      statuses[id] = 0;
    }
    const w = await d.agent.post('/distributed/write', { queries, statuses, messages: {} });
    expect(w.json).to.deep.equal({});
  }

  it('a passing recheck answer beats a future-stamped failing result that arrived earlier that second', async () => {
    clock.advance(10_000);
    toMillis(0);
    const d = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', `ORDER-${++n}`);
    await d.report({ unixTime: second() - 1 });
    expect((await decision(d.serial)).decision).to.equal('allow');

    // the agent's clock runs 5 s ahead: its failing firewall result is stamped in the future, arriving at .300
    toMillis(300);
    await d.reportCheck('macos_firewall', FIREWALL.fail, second() + 5);
    expect(await decision(d.serial)).to.deep.equal({ decision: 'deny', reasons: ['macos_firewall'] });

    // the person fixes it and presses Recheck; the answer lands at .700 of the same second
    const ids = await recheckIds(d);
    expect([...ids.keys()]).to.deep.equal(['macos_firewall']);
    toMillis(700);
    await answer(d, ids, 'pass');
    expect(await decision(d.serial)).to.deep.equal({ decision: 'allow', reasons: [] });
  });

  it('a failing scheduled result arriving after a passing recheck answer in the same second ends failing', async () => {
    clock.advance(10_000);
    toMillis(0);
    const d = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', `ORDER-${++n}`);
    await d.report({ failing: ['macos_firewall'], unixTime: second() - 1 });
    expect((await decision(d.serial)).decision).to.equal('deny');

    const ids = await recheckIds(d);
    toMillis(300);
    await answer(d, ids, 'pass');
    expect((await decision(d.serial)).decision).to.equal('allow');

    // the firewall is turned off again and the scheduled run of the same second arrives at .700
    toMillis(700);
    await d.reportCheck('macos_firewall', FIREWALL.fail, second());
    expect(await decision(d.serial)).to.deep.equal({ decision: 'deny', reasons: ['macos_firewall'] });
  });

  it('a result observed in an earlier second still never overwrites a newer one, whenever it arrives', async () => {
    clock.advance(10_000);
    toMillis(0);
    const d = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', `ORDER-${++n}`);
    await d.report({ unixTime: second() });
    toMillis(500);
    // a buffered failing line from the previous second, sent late
    await d.reportCheck('macos_firewall', FIREWALL.fail, second() - 1);
    expect(await decision(d.serial)).to.deep.equal({ decision: 'allow', reasons: [] });
  });
});
