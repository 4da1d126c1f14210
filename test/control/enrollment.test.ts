/**
 * Enrollment-time checks (control/operations.ts queueEnrollmentChecks): a device that just enrolled gets
 * every check of its platform at its first distributed/read, with `accelerate`, and its answers feed
 * posture like scheduled results, so its first complete verdict does not wait for its schedule and splay.
 * Over the real HTTPS path, on the shipped baseline.
 */
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { enrollFrom, takeEnrollmentChecks, type EnrolledAgent } from '../osquery/agent.js';
import { CHECK_ROWS, shippedChecks } from '../gateway/baseline.js';

const LINUX = 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json';
const CHECKS = shippedChecks();
/** The shipped checks a Linux host runs: the common pack's and the Linux pack's. */
const LINUX_CHECKS = [...CHECKS.values()].filter((c) => c.platform === undefined || c.platform === 'linux');

interface VerdictBody {
  decision: string;
  reasons: Array<{ check: string; status: string }>;
}

describe('enrollment-time checks', function () {
  this.timeout(60_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.stop();
  });

  const enroll = (serial: string): Promise<EnrolledAgent> =>
    enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial, uuid: `uuid-${serial}` });

  async function verdict(serial: string, resource: string): Promise<VerdictBody> {
    const r = await ts.client.request(`/api/v1/verdict?serial=${serial}&resource=${resource}&user=alice`, {
      token: ts.gatewayToken,
    });
    expect(r.status, r.text).to.equal(200);
    return r.json as VerdictBody;
  }

  /** The check each queued query runs (by its SQL). */
  const checkOf = (queries: Record<string, string>): string[] =>
    Object.values(queries).map(
      (sql) =>
        must(
          [...CHECKS.values()].find((c) => c.sql === sql),
          `a check: ${sql}`,
        ).id,
    );

  it('queues the platform’s checks; the first read gets them with accelerate; the answers complete it', async () => {
    const a = await enroll('ENR-1');
    const before = await verdict('ENR-1', 'prod-db');
    expect(before.decision).to.equal('deny');
    expect(new Set(before.reasons.map((r) => r.status))).to.deep.equal(new Set(['unknown']));

    const { queries, accelerate } = await takeEnrollmentChecks(a);
    expect(checkOf(queries)).to.have.members(LINUX_CHECKS.map((c) => c.id));
    expect(accelerate, 'a short accelerate: the checks came with this read').to.equal(15);
    const answers: Record<string, unknown> = {};
    const statuses: Record<string, number> = {};
    for (const [id, sql] of Object.entries(queries)) {
      const check = must(
        [...CHECKS.values()].find((c) => c.sql === sql),
        'its check',
      );
      answers[id] = must(CHECK_ROWS[check.id], `rows of ${check.id}`).pass;
      statuses[id] = 0;
    }
    const w = await a.post('/distributed/write', { queries: answers, statuses, messages: {} });
    expect(w.json).to.deep.equal({});

    for (const resource of ['prod-db', 'admin-console', 'grafana', 'wiki']) {
      const v = await verdict('ENR-1', resource);
      expect([resource, v.decision, v.reasons]).to.deep.equal([resource, 'allow', []]);
    }
    // the host's checks as the API shows them (check states are written behind, within 200 ms)
    type Detail = { host: { checks: Array<{ check: string; status: string; message: string | null }> } };
    let host: Detail | undefined;
    for (let i = 0; i < 50; i++) {
      host = (await ts.client.request('/api/v1/hosts/ENR-1', { token: ts.adminToken })).json as Detail;
      if (host.host.checks.every((c) => c.status === 'pass')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(must(host, 'the host').host.checks.map((c) => [c.check, c.status, c.message])).to.have.deep.members(
      LINUX_CHECKS.map((c) => [c.id, 'pass', null]),
    );
    const nothing = await a.post('/distributed/read', {});
    expect((nothing.json as { queries: object }).queries).to.deep.equal({});

    const audit = await ts.client.request('/api/v1/audit?type=host.enrolled&serial=ENR-1', { token: ts.adminToken });
    const entries = (audit.json as { entries: Array<{ data: { enrollment_checks: string[] } }> }).entries;
    expect(must(entries[0], 'the enrollment entry').data.enrollment_checks).to.have.members(
      LINUX_CHECKS.map((c) => c.id),
    );
  });

  it('gives each of many devices enrolling at once its own checks, and queues them on re-enrollment', async () => {
    const serials = Array.from({ length: 25 }, (_, i) => `ENR-BURST-${i}`);
    const agents = await Promise.all(serials.map(enroll));
    for (const a of agents) {
      const { queries } = await takeEnrollmentChecks(a);
      expect(checkOf(queries), a.serial).to.have.members(LINUX_CHECKS.map((c) => c.id));
    }
    const again = await enroll('ENR-BURST-0');
    expect(checkOf((await takeEnrollmentChecks(again)).queries)).to.have.members(LINUX_CHECKS.map((c) => c.id));
  });
});
