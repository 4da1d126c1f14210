/**
 * The device's people and `require_device_user` (issue #13) through the real path: the real server over
 * HTTPS with a real SQLite file, the shipped packs plus a tier that requires the pairing, devices enrolled
 * from real enroll payloads reporting their posture and the built-in logged-in-users query as osqueryd
 * sends them, the inventory and the account mappings set through the admin API, then the gateway's
 * forward-auth endpoint (gateway token, the SSO header) and verdict API.
 */
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { Reply } from '../support/http.js';
import { snapshotLine } from '../osquery/agent.js';
import { enrollDevice, type Device } from '../gateway/baseline.js';
import { pairedPacks } from './pairing-packs.js';

interface Verdict {
  decision: 'allow' | 'deny';
  would_deny: boolean;
  user: string | null;
  reasons: Array<{ check: string; status: string; message: string }>;
  break_glass: unknown;
  remediation_page: string | null;
}

const header = (r: Reply, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
};

describe('device people: require_device_user (HTTPS, real server)', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  const packs = pairedPacks();
  let ts: TestServer;
  let bobs: Device;
  let shared: Device;
  let nobodys: Device;

  const admin = (p: string, opts: { method?: string; body?: unknown } = {}): Promise<Reply> =>
    ts.client.request(p, { token: ts.adminToken, ...opts });

  /** Forward auth as a gateway sends it behind the SSO proxy (the e-mail header; the user header too, same value). */
  const authz = (serial: string, resource: string, person?: string): Promise<Reply> =>
    ts.client.request('/api/v1/authz', {
      token: ts.gatewayToken,
      headers: {
        'X-Device-Serial': serial,
        'X-Trustgate-Resource': resource,
        ...(person ? { 'X-Auth-Request-Email': person, 'X-Auth-Request-User': person } : {}),
      },
    });

  async function verdict(serial: string, resource: string, user?: string): Promise<Verdict> {
    const q = new URLSearchParams({ serial, resource, ...(user ? { user } : {}) });
    const r = await ts.client.request(`/api/v1/verdict?${q}`, { token: ts.gatewayToken });
    expect(r.status, r.text).to.equal(200);
    return r.json as Verdict;
  }

  /** The built-in query's answer, as osqueryd logs it: the accounts logged in now. */
  const loggedIn = (d: Device, accounts: string[]): Promise<Reply> =>
    d.agent.post('/log', {
      log_type: 'result',
      data: [
        snapshotLine(
          'pack/trustgate-device-users/device_users_darwin',
          clock.now() / 1000,
          accounts.map((account) => ({ account, source: 'console' })),
        ),
      ],
    });

  before(async () => {
    ts = await startTestServer({ clock, packsDir: packs.dir });
    const now = clock.now() / 1000;
    bobs = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'PAIR-BOB-1');
    shared = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'PAIR-SHARED-1');
    nobodys = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'PAIR-NOBODY-1');
    for (const d of [bobs, shared, nobodys]) await d.report({ unixTime: now });
    const imported = await admin('/api/v1/devices/import', {
      body: { text: 'serial,owners\nPAIR-BOB-1,Bob@Example.com\n', format: 'csv', source: 'mdm.csv' },
    });
    expect(imported.status, imported.text).to.equal(200);
  });
  after(async () => {
    await ts.stop();
    packs.remove();
  });

  it('serves the built-in logged-in-users query to agents, the one of their platform', async () => {
    const r = await bobs.agent.post('/config', {});
    const cfg = r.json as { packs: Record<string, { queries: Record<string, { query: string }> }> };
    expect(Object.keys(cfg.packs['trustgate-device-users']?.queries ?? {})).to.deep.equal(['device_users_darwin']);
    expect(cfg.packs['trustgate-device-users']?.queries.device_users_darwin?.query).to.contain('logged_in_users');
  });

  it("allows the inventory's owner, in any case of their address; denies others device_user_mismatch", async () => {
    const owner = await authz(bobs.serial, 'payroll', 'BOB@example.com');
    expect(owner.status, owner.text).to.equal(200);
    const v = await verdict(bobs.serial, 'payroll', ' Bob@Example.COM ');
    expect(v).to.include({ decision: 'allow', user: 'bob@example.com' });

    const other = await authz(bobs.serial, 'payroll', 'alice@example.com');
    expect(other.status).to.equal(403);
    expect(header(other, 'x-trustgate-reasons')).to.equal('device_user_mismatch');
    expect(header(other, 'x-trustgate-remediation-url')).to.match(/\/device\?t=/);
    // the page says whose device it is (masked) and whom to ask; no recheck, no emergency access
    const page = await ts.client.request(header(other, 'x-trustgate-remediation-url') ?? '', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('only opens on a device you are registered on');
    expect(page.text).to.contain('signed in as <strong>alice@example.com</strong>');
    expect(page.text).to.contain('registered to <strong>b•••@example.com</strong>');
    expect(page.text).to.contain('ask your IT team to register you on it');
    expect(page.text).not.to.contain('bob@example.com');
    expect(page.text).not.to.contain('recheck-btn');
    expect(page.text).not.to.contain('name="reason"');
    // the same person on a tier without the option: the posture alone decides
    expect((await authz(bobs.serial, 'prod-db', 'alice@example.com')).status).to.equal(200);
  });

  it('denies a request that names no person, and a device with no known people (deny by default)', async () => {
    const anonymous = await verdict(bobs.serial, 'payroll');
    expect(anonymous.decision).to.equal('deny');
    expect(anonymous.reasons[0]).to.include({ check: 'device_user_mismatch', status: 'device_user_mismatch' });
    expect(anonymous.reasons[0]?.message).to.contain('company sign-in');
    // not an e-mail address: no person at all
    expect((await verdict(bobs.serial, 'payroll', 'bob')).decision).to.equal('deny');

    const unknown = await verdict(nobodys.serial, 'payroll', 'bob@example.com');
    expect(unknown.decision).to.equal('deny');
    expect(unknown.reasons[0]?.message).to.contain('no person is registered on this device');
  });

  it('allows a logged-in account only once an admin maps it (nothing guessed), and audits the mapping', async () => {
    expect((await loggedIn(shared, ['carol'])).status).to.equal(200);
    expect((await authz(shared.serial, 'payroll', 'carol@example.com')).status).to.equal(403);

    const put = await admin('/api/v1/account-mappings', {
      method: 'PUT',
      body: { account: 'Carol', person: 'Carol@Example.com' },
    });
    expect(put.status, put.text).to.equal(200);
    expect((put.json as { mapping: unknown }).mapping).to.include({ account: 'carol', person: 'carol@example.com' });
    expect((await authz(shared.serial, 'payroll', 'carol@example.com')).status).to.equal(200);
    // the mapping translates a logged-in account: it does not pair Carol with a device she is not logged in on
    expect((await authz(bobs.serial, 'payroll', 'carol@example.com')).status).to.equal(403);

    const people = await admin(`/api/v1/devices/${shared.serial}/people`);
    expect(people.json).to.deep.equal({
      serial: shared.serial,
      people: [{ person: 'carol@example.com', sources: ['logged_in'], accounts: ['carol'] }],
      logged_in: [{ account: 'carol', person: 'carol@example.com', via: 'mapping' }],
    });
    const audit = await admin('/api/v1/audit?type=device.account_mapped');
    expect(audit.status, audit.text).to.equal(200);
    const entries = (audit.json as { entries: Array<{ actor: string; data: unknown }> }).entries;
    expect(entries.map((e) => e.data)).to.deep.include({
      account: 'carol',
      person: 'carol@example.com',
      every_device: true,
      replaced: null,
    });

    // Carol logs out: the next snapshot no longer names her
    expect((await loggedIn(shared, [])).status).to.equal(200);
    expect((await authz(shared.serial, 'payroll', 'carol@example.com')).status).to.equal(403);
  });

  it('pairs a person with one device by a mapping scoped to its serial, and unpairs on removal', async () => {
    const put = await admin('/api/v1/account-mappings', {
      method: 'PUT',
      body: { account: 'erin', person: 'erin@example.com', serial: nobodys.serial },
    });
    expect(put.status, put.text).to.equal(200);
    expect((await authz(nobodys.serial, 'payroll', 'erin@example.com')).status).to.equal(200);
    expect((await authz(bobs.serial, 'payroll', 'erin@example.com')).status).to.equal(403);
    const del = await admin(`/api/v1/account-mappings?account=erin&serial=${nobodys.serial}`, { method: 'DELETE' });
    expect(del.status, del.text).to.equal(204);
    expect((await authz(nobodys.serial, 'payroll', 'erin@example.com')).status).to.equal(403);
    const again = await admin(`/api/v1/account-mappings?account=erin&serial=${nobodys.serial}`, { method: 'DELETE' });
    expect(again.status).to.equal(404);
  });

  it('refuses a mapping to something that is not a person, and unknown keys (400)', async () => {
    const bad = await admin('/api/v1/account-mappings', {
      method: 'PUT',
      body: { account: 'x', person: 'not-a-mail' },
    });
    expect(bad.status).to.equal(400);
    const extra = await admin('/api/v1/account-mappings', {
      method: 'PUT',
      body: { account: 'x', person: 'x@example.com', admin: true },
    });
    expect(extra.status).to.equal(400);
  });

  it('marks the pairing tiers in the bundle (it carries no people: local deciders ask the verdict API)', async () => {
    const r = await ts.client.request('/api/v1/verdicts/bundle', { token: ts.gatewayToken });
    const tiers = (r.json as { tiers: Record<string, Record<string, unknown>> }).tiers;
    expect(tiers.paired).to.include({ require_device_user: true });
    expect(tiers.high).not.to.have.property('require_device_user');
    expect(r.text).not.to.contain('bob@example.com');
  });

  it('applies monitor mode as to any reason: allowed, would_deny, the reason reported', async () => {
    const v = await verdict(bobs.serial, 'payroll-preview', 'alice@example.com');
    expect(v).to.include({ decision: 'allow', would_deny: true });
    expect(v.reasons.map((r) => r.check)).to.deep.equal(['device_user_mismatch']);
    const r = await authz(bobs.serial, 'payroll-preview', 'alice@example.com');
    expect(r.status).to.equal(200);
    expect(header(r, 'x-trustgate-would-deny')).to.equal('true');
  });

  it('does not let a break-glass grant override the pairing', async () => {
    const g = await admin('/api/v1/break-glass', {
      method: 'POST',
      body: {
        serial: bobs.serial,
        user: 'alice@example.com',
        resource: 'payroll',
        reason: 'Testing a grant on a device that is not mine',
        duration: '1h',
      },
    });
    expect(g.status, g.text).to.equal(201);
    expect((g.json as { status: string }).status).to.equal('active');
    const v = await verdict(bobs.serial, 'payroll', 'alice@example.com');
    expect(v).to.include({ decision: 'deny', break_glass: null });
    expect(v.reasons[0]?.check).to.equal('device_user_mismatch');
  });

  it('counts break-glass requests against the limit per canonical person, whatever the case', async () => {
    const ask = (user: string): Promise<Reply> =>
      admin('/api/v1/break-glass', {
        method: 'POST',
        body: {
          serial: shared.serial,
          user,
          resource: 'grafana',
          reason: 'Incident INC-42 needs dashboards',
          duration: '1h',
        },
      });
    const users = ['Dana@Example.com', 'dana@example.com', ' DANA@EXAMPLE.COM '];
    for (const u of users) {
      const r = await ask(u);
      expect(r.status, r.text).to.equal(201);
      expect((r.json as { user: string }).user).to.equal('dana@example.com');
    }
    const fourth = await ask('dana@EXAMPLE.com');
    expect(fourth.status, fourth.text).to.equal(409);
    const list = await admin('/api/v1/audit?type=break_glass.requested');
    const named = (list.json as { entries: Array<{ data: { user: string } }> }).entries.map((e) => e.data.user);
    expect(named.filter((u) => u.toLowerCase().includes('dana'))).to.deep.equal([
      'dana@example.com',
      'dana@example.com',
      'dana@example.com',
    ]);
    // a name that is not an address is no person: refused, never a grant under a made-up name
    expect((await ask('dana')).status).to.equal(400);
  });
});
