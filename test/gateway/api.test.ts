/**
 * The gateway API (SPEC §4) through the real path: the real server over HTTPS with a real SQLite file,
 * devices enrolled from real osquery enroll payloads, posture results for the shipped baseline
 * (packs/*.json, packs/policy.yaml) sent as osqueryd sends them, then the gateway endpoints.
 *
 * Time is a ManualClock shared by the server and the tests: agents report `unixTime` = the clock, and
 * staleness is produced by advancing it past a tier's max_age.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { ManualClock } from '../../server/shared/clock.js';
import { startTestServer, REPO_PACKS, type TestServer } from '../support/server.js';
import type { Reply } from '../support/http.js';
import { must } from '../support/must.js';
import { CHECK_ROWS, appliesTo, enrollDevice, shippedChecks, type Device, type DevicePlatform } from './baseline.js';

interface Reason {
  check: string;
  status: string;
  title: string;
  message: string;
  remediation_url: string | null;
  observed_at: string | null;
}
interface VerdictBody {
  decision: 'allow' | 'deny';
  enforced: boolean;
  would_deny: boolean;
  resource: string;
  tier: string;
  serial: string;
  user: string | null;
  reasons: Reason[];
  break_glass: unknown;
  device: { hostname: string; platform: string; last_seen_at: string } | null;
  remediation_page: string | null;
  evaluated_at: string;
  data_age_seconds: number | null;
}
interface PolicyFile {
  tiers: Record<string, { max_age: string; checks: string[] }>;
  resources: Record<string, { tier: string; mode: string; hosts?: string[] }>;
}

const POLICY = YAML.parse(fs.readFileSync(path.join(REPO_PACKS, 'policy.yaml'), 'utf8')) as PolicyFile;
const CHECKS = shippedChecks();
const MIN = 60_000;
const HOUR = 60 * MIN;

/** `pack/<pack>/<query>` checks required by a tier that apply to a platform. */
const tierChecks = (tier: string, platform: DevicePlatform): string[] =>
  (POLICY.tiers[tier]?.checks ?? []).filter((id) => {
    const c = CHECKS.get(id);
    return c !== undefined && appliesTo(c, platform);
  });

const header = (r: Reply, name: string): string | undefined => {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
};

describe('gateway API (HTTPS, real server, shipped baseline)', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  let ts: TestServer;
  let viewerToken: string;
  let n = 0;
  const nowSec = (): number => clock.now() / 1000;
  const iso = (ms = clock.now()): string => new Date(ms).toISOString();

  before(async () => {
    ts = await startTestServer({ clock });
    const r = await ts.client.request('/api/v1/tokens', {
      token: ts.adminToken,
      body: { name: 'test-viewer', role: 'viewer' },
    });
    expect(r.status, r.text).to.equal(201);
    viewerToken = (r.json as { token: string }).token;
  });
  after(async () => {
    await ts.stop();
  });

  /** A new device of `platform` that reported the baseline now (every check passes except `failing`). */
  async function device(platform: DevicePlatform, failing: string[] = []): Promise<Device> {
    const d = await enrollDevice(ts.client, ts.enrollSecret, platform, `GW-${platform.toUpperCase()}-${++n}`);
    await d.report({ failing, unixTime: nowSec() });
    return d;
  }

  async function verdict(
    serial: string,
    resource: string,
    user?: string,
    token = ts.gatewayToken,
  ): Promise<VerdictBody> {
    const q = new URLSearchParams({ serial, resource, ...(user ? { user } : {}) });
    const r = await ts.client.request(`/api/v1/verdict?${q}`, { token });
    expect(r.status, r.text).to.equal(200);
    return r.json as VerdictBody;
  }

  /** Forward-auth request; `token: null` sends no Authorization header. */
  const authz = (headers: Record<string, string>, token: string | null = ts.gatewayToken): Promise<Reply> =>
    ts.client.request('/api/v1/authz', { headers, ...(token !== null ? { token } : {}) });

  describe('fixtures', () => {
    it('has passing and failing rows for every shipped check, using only the columns its SQL selects', () => {
      expect(CHECKS.size).to.be.greaterThan(10);
      for (const c of CHECKS.values()) {
        const rows = CHECK_ROWS[c.id];
        expect(rows, `rows for ${c.id}`).to.not.equal(undefined);
        for (const row of [...(rows?.pass ?? []), ...(rows?.fail ?? [])]) {
          for (const col of Object.keys(row))
            expect(c.sql, `${c.id} selects ${col}`).to.match(new RegExp(`\\b${col}\\b`));
        }
      }
    });

    it('uses a policy whose tiers only name shipped checks', () => {
      for (const [name, t] of Object.entries(POLICY.tiers))
        for (const id of t.checks) expect(CHECKS.has(id), `${name}: ${id}`).to.equal(true);
    });
  });

  describe('GET /api/v1/verdict', () => {
    for (const platform of ['darwin', 'linux', 'windows'] as const) {
      it(`allows a compliant ${platform} device on an enforce resource of the high tier`, async () => {
        const d = await device(platform);
        const v = await verdict(d.serial, 'prod-db', 'alice@example.com');
        expect(v).to.deep.include({
          decision: 'allow',
          enforced: true,
          would_deny: false,
          resource: 'prod-db',
          tier: 'high',
          serial: d.serial,
          user: 'alice@example.com',
          break_glass: null,
          remediation_page: null,
          evaluated_at: iso(),
          data_age_seconds: 0,
        });
        expect(v.reasons).to.deep.equal([]);
        expect(v.device).to.include({ platform, hostname: `${d.serial.toLowerCase()}.example.test` });
      });
    }

    it('denies a failing check with its title, interpolated message, remediation_url and observed_at', async () => {
      const d = await device('darwin', ['macos_os_version']);
      const v = await verdict(d.serial, 'prod-db', 'alice@example.com');
      expect(v).to.include({ decision: 'deny', enforced: true, would_deny: true, tier: 'high' });
      const def = must(CHECKS.get('macos_os_version'), 'the shipped check macos_os_version');
      expect(v.reasons).to.have.length(1);
      expect(v.reasons[0]).to.deep.equal({
        check: 'macos_os_version',
        status: 'fail',
        title: def.title,
        message: def.message.replace('{{version}}', '12.1'),
        remediation_url: def.remediationUrl ?? null,
        observed_at: iso(),
      });
      expect(must(v.reasons[0], 'a reason').message).to.contain('Your macOS is 12.1; we need 14.4 or later.');
    });

    for (const platform of ['darwin', 'linux', 'windows'] as const) {
      it(`denies each failing ${platform} high-tier check, naming only that check, with its message`, async () => {
        const d = await device(platform);
        const required = tierChecks('high', platform);
        expect(required.length).to.be.greaterThan(3);
        for (const id of required) {
          clock.advance(1000); // a later run: a result never overwrites a newer one
          await d.report({ failing: [id], unixTime: nowSec() });
          const v = await verdict(d.serial, 'prod-db');
          expect(v.decision, id).to.equal('deny');
          expect(
            v.reasons.map((r) => [r.check, r.status]),
            id,
          ).to.deep.equal([[id, 'fail']]);
          const expected = CHECK_ROWS[id]?.failMessageContains;
          const reason = must(v.reasons[0], `the reason for ${id}`);
          if (expected) expect(reason.message, id).to.contain(expected);
          expect(reason.message, id).not.to.contain('{{');
          expect(reason.remediation_url, id).to.equal(must(CHECKS.get(id), `the shipped check ${id}`).remediationUrl);
        }
        clock.advance(1000);
        await d.report({ unixTime: nowSec() });
        expect((await verdict(d.serial, 'prod-db')).decision).to.equal('allow');
      });
    }

    it('lists every failing check of the tier in the tier order, and only checks of that tier', async () => {
      const d = await device('darwin', ['macos_firewall', 'macos_os_version', 'macos_sip']);
      const high = await verdict(d.serial, 'prod-db');
      expect(high.reasons.map((r) => r.check)).to.deep.equal(['macos_os_version', 'macos_firewall', 'macos_sip']);
      const medium = await verdict(d.serial, 'grafana');
      expect(medium.tier).to.equal('medium');
      expect(medium.reasons.map((r) => r.check)).to.deep.equal(['macos_os_version', 'macos_firewall']);
    });

    it('denies with status stale once the data is older than the tier max_age, per tier', async () => {
      const d = await device('darwin');
      clock.advance(15 * MIN + 1000);
      const high = await verdict(d.serial, 'prod-db');
      expect(high).to.include({ decision: 'deny', would_deny: true, data_age_seconds: 15 * 60 + 1 });
      expect(high.reasons.map((r) => r.check)).to.have.members(tierChecks('high', 'darwin'));
      expect(high.reasons.every((r) => r.status === 'stale')).to.equal(true);
      expect(must(high.reasons[0], 'a stale reason').observed_at).to.equal(iso(clock.now() - 15 * MIN - 1000));
      expect((await verdict(d.serial, 'grafana')).decision, 'medium tier (1h) is still fresh').to.equal('allow');
      clock.advance(HOUR);
      const medium = await verdict(d.serial, 'grafana');
      expect(medium.decision).to.equal('deny');
      expect(medium.reasons.map((r) => r.status)).to.satisfy(
        (s: string[]) => s.length > 0 && s.every((x) => x === 'stale'),
      );
      clock.advance(1000);
      await d.report({ unixTime: nowSec() });
      expect((await verdict(d.serial, 'prod-db')).decision, 'fresh results again').to.equal('allow');
    });

    it('allows on a monitor-mode resource but says would_deny with the reasons', async () => {
      const d = await device('darwin', ['macos_filevault']);
      const v = await verdict(d.serial, 'wiki', 'Bob@Example.com');
      expect(v).to.include({
        decision: 'allow',
        enforced: false,
        would_deny: true,
        resource: 'wiki',
        tier: 'low',
        user: 'bob@example.com',
      });
      expect(v.reasons.map((r) => [r.check, r.status])).to.deep.equal([['macos_filevault', 'fail']]);
      expect(v.remediation_page, 'a link whenever the posture would deny, monitor mode too').to.match(/\/device\?t=.+/);
    });

    it('denies an unknown device with reason unknown_device', async () => {
      const v = await verdict('NEVER-ENROLLED-1', 'prod-db', 'alice@example.com');
      expect(v).to.include({ decision: 'deny', serial: 'NEVER-ENROLLED-1', device: null, data_age_seconds: null });
      expect(v.reasons.map((r) => [r.check, r.status])).to.deep.equal([['unknown_device', 'unknown_device']]);
      expect((await verdict('NEVER-ENROLLED-1', 'wiki')).decision, 'monitor mode still lets it through').to.equal(
        'allow',
      );
    });

    it('denies a device that enrolled but has not reported a required check (unknown)', async () => {
      const d = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', `GW-NODATA-${++n}`);
      const v = await verdict(d.serial, 'prod-db');
      expect(v.decision).to.equal('deny');
      expect(v.reasons.map((r) => r.status)).to.satisfy(
        (s: string[]) => s.length > 0 && s.every((x) => x === 'unknown'),
      );
    });

    it('answers 404 with an error for an unknown resource', async () => {
      const d = await device('darwin');
      const r = await ts.client.request(`/api/v1/verdict?serial=${d.serial}&resource=no-such-resource`, {
        token: ts.gatewayToken,
      });
      expect(r.status).to.equal(404);
      expect(r.json).to.have.property('error');
      expect(JSON.stringify(r.json)).to.contain('no-such-resource');
    });

    it('answers 400 with an error when serial or resource is missing', async () => {
      for (const q of ['resource=prod-db', 'serial=X', '']) {
        const r = await ts.client.request(`/api/v1/verdict?${q}`, { token: ts.gatewayToken });
        expect(r.status, q).to.equal(400);
        expect(r.json, q).to.have.property('error');
      }
    });

    it('answers 401 without a token or with an invalid one, and 403 for a viewer token', async () => {
      const path = '/api/v1/verdict?serial=X&resource=prod-db';
      const none = await ts.client.request(path);
      expect(none.status).to.equal(401);
      expect(none.json).to.have.property('error');
      expect(header(none, 'www-authenticate')).to.match(/^Bearer/);
      for (const bad of ['tg_not_a_real_token', `${ts.gatewayToken}x`]) {
        const r = await ts.client.request(path, { token: bad });
        expect(r.status, bad).to.equal(401);
      }
      const basic = await ts.client.request(path, {
        headers: { authorization: `Basic ${Buffer.from(`gw:${ts.gatewayToken}`).toString('base64')}` },
      });
      expect(basic.status).to.equal(401);
      const viewer = await ts.client.request(path, { token: viewerToken });
      expect(viewer.status).to.equal(403);
      expect(viewer.json).to.have.property('error');
    });

    it('links a remediation page that opens (signed /device?t=… on the public URL) when posture denies', async () => {
      const d = await device('darwin', ['macos_firewall']);
      const v = await verdict(d.serial, 'prod-db', 'alice@example.com');
      expect(v.decision).to.equal('deny');
      expect(v.remediation_page, 'SPEC §4: remediation_page on a denied verdict').to.be.a('string');
      expect(v.remediation_page).to.match(new RegExp(`^${ts.url.replace(/[.]/g, '\\.')}/device\\?t=.+`));
      const link = must(v.remediation_page, 'remediation_page');
      const page = await ts.client.request(link, { headers: { accept: 'text/html' } });
      expect(page.status).to.equal(200);
      expect(page.text).to.contain(d.serial);
      // the gateway asks again on every request: the same link comes back (signed once), with at least
      // half its lifetime left
      const again = await verdict(d.serial, 'prod-db', 'alice@example.com');
      expect(again.remediation_page).to.equal(v.remediation_page);
      const token = new URL(link).searchParams.get('t') ?? '';
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { e: number };
      expect(claims.e).to.be.greaterThan(clock.now() + 5 * 60_000);
      const monitor = await verdict(d.serial, 'wiki', 'alice@example.com');
      expect(monitor.remediation_page, 'no link while the posture allows').to.equal(null);
    });
  });

  describe('GET /api/v1/authz (forward auth)', () => {
    let ok: Device;
    let noSip: Device;
    before(async () => {
      ok = await device('darwin');
      noSip = await device('darwin', ['macos_sip']); // fails high only: denied on prod-db, allowed on grafana (medium)
    });

    it('answers 200 with the allow headers for a compliant device (resource header)', async () => {
      const r = await authz({
        'X-Device-Serial': ok.serial,
        'X-Auth-Request-Email': 'alice@example.com',
        'X-Trustgate-Resource': 'prod-db',
      });
      expect(r.status).to.equal(200);
      expect(header(r, 'x-trustgate-decision')).to.equal('allow');
      expect(header(r, 'x-trustgate-reasons')).to.equal('');
      expect(header(r, 'x-trustgate-remediation-url')).to.equal(undefined);
    });

    it('answers 403 with the failing check ids for a non-compliant device', async () => {
      const d = await device('darwin', ['macos_firewall', 'macos_os_version']);
      const r = await authz({
        'X-Device-Serial': d.serial,
        'X-Auth-Request-Email': 'alice@example.com',
        'X-Trustgate-Resource': 'prod-db',
      });
      expect(r.status).to.equal(403);
      expect(header(r, 'x-trustgate-decision')).to.equal('deny');
      expect(header(r, 'x-trustgate-reasons')).to.equal('macos_os_version,macos_firewall');
    });

    it('maps X-Forwarded-Host to the resource by the policy host rules (case and port ignored)', async () => {
      const hosts = (res: string): string => POLICY.resources[res]?.hosts?.[0] ?? '';
      expect(hosts('prod-db')).to.equal('db.internal.example.com');
      const db = await authz({ 'X-Device-Serial': noSip.serial, 'X-Forwarded-Host': hosts('prod-db') });
      expect(db.status).to.equal(403);
      expect(header(db, 'x-trustgate-reasons')).to.equal('macos_sip');
      const graf = await authz({ 'X-Device-Serial': noSip.serial, 'X-Forwarded-Host': hosts('grafana') });
      expect(graf.status).to.equal(200);
      const upper = await authz({ 'X-Device-Serial': noSip.serial, 'X-Forwarded-Host': 'DB.Internal.Example.COM:443' });
      expect(upper.status).to.equal(403);
      const list = await authz({
        'X-Device-Serial': noSip.serial,
        'X-Forwarded-Host': `${hosts('grafana')}, proxy.example.com`,
      });
      expect(list.status, 'first host of a list').to.equal(200);
      expect((await authz({ 'X-Device-Serial': ok.serial, 'X-Forwarded-Host': hosts('prod-db') })).status).to.equal(
        200,
      );
    });

    it('maps the host of X-Original-URL when there is no X-Forwarded-Host', async () => {
      const db = await authz({
        'X-Device-Serial': noSip.serial,
        'X-Original-URL': 'https://db.internal.example.com/query?x=1',
      });
      expect(db.status).to.equal(403);
      const wiki = await authz({
        'X-Device-Serial': noSip.serial,
        'X-Original-URL': 'https://wiki.internal.example.com/page',
      });
      expect(wiki.status).to.equal(200);
    });

    it('prefers X-Trustgate-Resource over the host', async () => {
      const r = await authz({
        'X-Device-Serial': noSip.serial,
        'X-Trustgate-Resource': 'grafana',
        'X-Forwarded-Host': 'db.internal.example.com',
      });
      expect(r.status).to.equal(200);
    });

    it('allows on a monitor-mode resource and flags X-Trustgate-Would-Deny', async () => {
      const d = await device('darwin', ['macos_filevault']);
      const r = await authz({ 'X-Device-Serial': d.serial, 'X-Forwarded-Host': 'wiki.internal.example.com' });
      expect(r.status).to.equal(200);
      expect(header(r, 'x-trustgate-decision')).to.equal('allow');
      expect(header(r, 'x-trustgate-would-deny')).to.equal('true');
      expect(header(r, 'x-trustgate-reasons')).to.equal('macos_filevault');
    });

    it('denies an unknown device, a missing serial and an unmapped host', async () => {
      const unknown = await authz({ 'X-Device-Serial': 'NEVER-ENROLLED-2', 'X-Trustgate-Resource': 'prod-db' });
      expect(unknown.status).to.equal(403);
      expect(header(unknown, 'x-trustgate-reasons')).to.equal('unknown_device');
      const noSerial = await authz({ 'X-Trustgate-Resource': 'prod-db' });
      expect(noSerial.status).to.equal(403);
      expect(header(noSerial, 'x-trustgate-reasons')).to.equal('no_device_serial');
      const unmapped = await authz({ 'X-Device-Serial': ok.serial, 'X-Forwarded-Host': 'elsewhere.example.com' });
      expect(unmapped.status).to.equal(403);
      expect(header(unmapped, 'x-trustgate-reasons')).to.equal('unknown_resource');
      const unknownRes = await authz({ 'X-Device-Serial': ok.serial, 'X-Trustgate-Resource': 'no-such-resource' });
      expect(unknownRes.status).to.equal(403);
      expect(header(unknownRes, 'x-trustgate-reasons')).to.equal('unknown_resource');
    });

    it('takes the user only from the SSO header (X-Auth-Request-Email), never a client identity header', async () => {
      const userOnPage = async (headers: Record<string, string>): Promise<string> => {
        const r = await authz({ 'X-Device-Serial': noSip.serial, 'X-Trustgate-Resource': 'prod-db', ...headers });
        expect(r.status).to.equal(403);
        const page = await ts.client.request(must(header(r, 'x-trustgate-remediation-url'), 'the remediation URL'), {
          headers: { accept: 'text/html' },
        });
        expect(page.status).to.equal(200);
        return page.text;
      };
      expect(await userOnPage({ 'X-Auth-Request-Email': 'Carol@Example.com' })).to.contain('carol@example.com');
      const forged = await userOnPage({
        'X-Forwarded-User': 'dave@forwarded.example',
        'X-Auth-Request-User': 'erin@forged.example',
      });
      expect(forged).not.to.contain('dave@forwarded.example');
      expect(forged).not.to.contain('erin@forged.example');
    });

    it('answers 401 without a token and 403 with a viewer token', async () => {
      const h = { 'X-Device-Serial': ok.serial, 'X-Trustgate-Resource': 'prod-db' };
      expect((await authz(h, null)).status).to.equal(401);
      expect((await authz(h, 'tg_invalid')).status).to.equal(401);
      expect((await authz(h, viewerToken)).status).to.equal(403);
    });

    it('sends X-Trustgate-Remediation-URL on a deny', async () => {
      const r = await authz({
        'X-Device-Serial': noSip.serial,
        'X-Auth-Request-Email': 'alice@example.com',
        'X-Forwarded-Host': 'db.internal.example.com',
      });
      expect(r.status).to.equal(403);
      expect(header(r, 'x-trustgate-remediation-url'), 'SPEC §4: X-Trustgate-Remediation-URL').to.match(
        /\/device\?t=.+/,
      );
    });
  });

  describe('GET /api/v1/verdicts/bundle', () => {
    it('answers with an ETag, 304 on If-None-Match, and a new ETag after new results', async () => {
      const d = await device('windows');
      const first = await ts.client.request('/api/v1/verdicts/bundle', { token: ts.gatewayToken });
      expect(first.status).to.equal(200);
      const etag = must(header(first, 'etag'), 'an ETag');
      expect(etag).to.match(/^"[^"]+"$/);
      const body = first.json as {
        tiers: Record<string, unknown>;
        resources: Record<string, { tier: string; mode: string }>;
        devices: Array<{
          serial: string;
          platform: string;
          tiers: Record<string, { reasons: Reason[]; fresh_until: string | null }>;
        }>;
      };
      expect(body.resources['wiki']).to.deep.equal({ tier: 'low', mode: 'monitor' });
      const mine = body.devices.find((x) => x.serial === d.serial);
      expect(mine?.platform).to.equal('windows');
      expect(mine?.tiers['high']?.reasons).to.deep.equal([]);
      expect(mine?.tiers['high']?.fresh_until).to.equal(iso(clock.now() + 15 * MIN));

      const again = await ts.client.request('/api/v1/verdicts/bundle', {
        token: ts.gatewayToken,
        headers: { 'if-none-match': etag },
      });
      expect(again.status).to.equal(304);
      expect(again.text).to.equal('');

      clock.advance(1000);
      await d.report({ failing: ['windows_firewall'], unixTime: nowSec() });
      const changed = await ts.client.request('/api/v1/verdicts/bundle', {
        token: ts.gatewayToken,
        headers: { 'if-none-match': etag },
      });
      expect(changed.status).to.equal(200);
      expect(header(changed, 'etag')).to.not.equal(etag);
      const after = (changed.json as typeof body).devices.find((x) => x.serial === d.serial);
      expect(after?.tiers['high']?.reasons.map((r) => r.check)).to.deep.equal(['windows_firewall']);
    });

    it('needs the gateway token', async () => {
      expect((await ts.client.request('/api/v1/verdicts/bundle')).status).to.equal(401);
      expect((await ts.client.request('/api/v1/verdicts/bundle', { token: viewerToken })).status).to.equal(403);
    });
  });

  describe('recheck: POST /api/v1/hosts/:serial/recheck → distributed read/write → verdict', () => {
    it('queues the failing checks, delivers them with an integer accelerate; fixed results allow at once', async () => {
      const d = await device('darwin', ['macos_firewall', 'macos_screen_lock']);
      expect((await verdict(d.serial, 'prod-db')).decision).to.equal('deny');

      const forbidden = await ts.client.request(`/api/v1/hosts/${d.serial}/recheck`, {
        token: ts.gatewayToken,
        method: 'POST',
        body: {},
      });
      expect(forbidden.status, 'gateway token cannot recheck').to.equal(403);

      const q = await ts.client.request(`/api/v1/hosts/${d.serial}/recheck`, {
        token: ts.adminToken,
        method: 'POST',
        body: {},
      });
      expect(q.status, q.text).to.equal(202);
      expect((q.json as { queued: string[] }).queued).to.have.members(['macos_firewall', 'macos_screen_lock']);

      const read = await d.agent.post('/distributed/read', {});
      const body = read.json as { queries: Record<string, string>; accelerate?: unknown };
      expect(Number.isInteger(body.accelerate), `accelerate ${String(body.accelerate)}`).to.equal(true);
      expect(body.accelerate as number).to.be.greaterThan(0);
      const byCheck = new Map<string, string>();
      for (const [id, sql] of Object.entries(body.queries)) {
        const check = [...CHECKS.values()].find((c) => c.sql === sql);
        byCheck.set(must(check, `a check with the SQL of query ${id}`).id, id);
      }
      expect([...byCheck.keys()]).to.have.members(['macos_firewall', 'macos_screen_lock']);

      // the answer lands mid-second (osquery stamps its own results in whole seconds)
      clock.advance(5000 + ((1700 - (clock.now() % 1000)) % 1000));
      const queries: Record<string, unknown> = {};
      const statuses: Record<string, number> = {};
      for (const [check, id] of byCheck) {
        queries[id] = must(CHECK_ROWS[check], `the rows of ${check}`).pass;
        statuses[id] = 0;
      }
      const w = await d.agent.post('/distributed/write', { queries, statuses, messages: {} });
      expect(w.json).to.deep.equal({});
      const v = await verdict(d.serial, 'prod-db');
      expect(v.decision).to.equal('allow');
      expect(v.reasons).to.deep.equal([]);
      const empty = await d.agent.post('/distributed/read', {});
      expect((empty.json as { queries: object }).queries).to.deep.equal({});
      // a scheduled run later in that same second (stamped in whole seconds) is not older than the answer
      clock.advance(100);
      await d.report({ failing: ['macos_firewall'], unixTime: Math.floor(nowSec()) });
      expect((await verdict(d.serial, 'prod-db')).reasons.map((r) => r.check)).to.deep.equal(['macos_firewall']);
    });

    it('answers 404 for an unknown host', async () => {
      const r = await ts.client.request('/api/v1/hosts/NEVER-ENROLLED-3/recheck', {
        token: ts.adminToken,
        method: 'POST',
        body: {},
      });
      expect(r.status).to.equal(404);
      expect(r.json).to.have.property('error');
    });
  });

  describe('GET /metrics', () => {
    const count = (text: string, resource: string, decision: string, mode: string): number => {
      for (const line of text.split('\n')) {
        if (!line.startsWith('trustgate_decisions_total{')) continue;
        if (
          line.includes(`resource="${resource}"`) &&
          line.includes(`decision="${decision}"`) &&
          line.includes(`mode="${mode}"`)
        )
          return Number(line.split(' ').pop());
      }
      return 0;
    };

    it('counts every decision in trustgate_decisions_total by resource, decision and mode', async () => {
      const ok = await device('linux');
      const bad = await device('linux', ['linux_ssh_not_exposed']);
      const before = (await ts.client.request('/metrics')).text;
      await verdict(ok.serial, 'prod-db');
      await verdict(ok.serial, 'prod-db');
      await authz({ 'X-Device-Serial': bad.serial, 'X-Trustgate-Resource': 'prod-db' });
      await verdict(bad.serial, 'wiki');
      const m = await ts.client.request('/metrics');
      expect(m.status).to.equal(200);
      expect(m.text).to.contain('# TYPE trustgate_decisions_total counter');
      expect(count(m.text, 'prod-db', 'allow', 'enforce') - count(before, 'prod-db', 'allow', 'enforce')).to.equal(2);
      expect(count(m.text, 'prod-db', 'deny', 'enforce') - count(before, 'prod-db', 'deny', 'enforce')).to.equal(1);
      expect(count(m.text, 'wiki', 'allow', 'monitor') - count(before, 'wiki', 'allow', 'monitor')).to.equal(1);
    });

    it('counts a forward-auth refusal naming a resource the policy lacks as (unknown), not by that name', async () => {
      const before = (await ts.client.request('/metrics')).text;
      for (const name of ['made-up-1', 'made-up-2', 'prod-db']) {
        const r = await authz({ 'X-Trustgate-Resource': name }); // no serial: refused before any lookup
        expect(r.status).to.equal(403);
      }
      const m = (await ts.client.request('/metrics')).text;
      expect(m).to.not.contain('made-up');
      expect(count(m, '(unknown)', 'deny', 'none') - count(before, '(unknown)', 'deny', 'none')).to.equal(2);
      expect(count(m, 'prod-db', 'deny', 'none') - count(before, 'prod-db', 'deny', 'none')).to.equal(1);
    });
  });
});
