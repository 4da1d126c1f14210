/**
 * The CLI's device views as a user runs them (real processes on the server's data directory): one JSON
 * shape with the admin API, the remediation link on a would-deny verdict, one last-seen time everywhere,
 * tables that fit the terminal, and the osqueryd flags filled in from osquery-examples/osquery.flags.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startTestServer, type TestServer } from '../support/server.js';
import { enrollDevice, type Device } from '../gateway/baseline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('trustgate hosts, host, verdict, osquery-flags', function () {
  this.timeout(90_000);
  let ts: TestServer;
  let failing: Device;
  before(async () => {
    ts = await startTestServer();
    failing = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'CLIH-FAIL');
    await failing.report({ failing: ['macos_firewall'], unixTime: Math.floor(Date.now() / 1000) });
    await enrollDevice(ts.client, ts.enrollSecret, 'windows', 'CLIH-SILENT'); // no results yet
    await sleep(1300); // check states (200 ms) and last-seen times (1 s) are written behind
  });
  after(async () => {
    await ts.stop();
  });

  function cli(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server/cli/bin.js'), ...args], {
      env: {
        ...process.env,
        TRUSTGATE_DATA_DIR: ts.dataDir,
        TRUSTGATE_PACKS_DIR: ts.packsDir,
        TRUSTGATE_CERTS_DIR: ts.certsDir,
        TRUSTGATE_PUBLIC_URL: ts.config.publicUrl,
        ...env,
      },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    return r.stdout;
  }
  const api = async (p: string): Promise<unknown> => (await ts.client.request(p, { token: ts.adminToken })).json;

  it('host --json is GET /api/v1/hosts/:serial and hosts --json is its host list', async () => {
    const detail = JSON.parse(cli(['host', 'CLIH-FAIL', '--json'])) as {
      host: {
        last_seen_at: string;
        decisions: Record<string, { decision: string; reasons: string[] }>;
        checks: Array<{ check: string; status: string; message: string | null; observed_at: string | null }>;
      };
    };
    expect(detail).to.deep.equal(await api('/api/v1/hosts/CLIH-FAIL'));
    expect(detail.host.decisions['prod-db']).to.deep.include({ decision: 'deny', reasons: ['macos_firewall'] });
    expect(detail.host.last_seen_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const fw = detail.host.checks.find((c) => c.check === 'macos_firewall');
    expect(fw?.status).to.equal('fail');
    expect(fw?.message).to.be.a('string').and.contain('firewall');
    for (const c of detail.host.checks.filter((x) => x.status === 'pass')) expect(c.message, c.check).to.equal(null);

    const silent = JSON.parse(cli(['host', 'CLIH-SILENT', '--json'])) as {
      host: { checks: Array<{ status: string; message: string | null; observed_at: string | null }> };
    };
    expect(silent.host.checks.length, 'every check of the platform, none answered yet').to.be.greaterThan(5);
    for (const c of silent.host.checks)
      expect([c.status, c.message, c.observed_at]).to.deep.equal(['unknown', null, null]);

    const list = JSON.parse(cli(['hosts', '--json'])) as unknown[];
    expect(list).to.deep.equal(((await api('/api/v1/hosts')) as { hosts: unknown[] }).hosts);
  });

  it('shows the decisions and every check in the host table, and fits the hosts table to the terminal', () => {
    const text = cli(['host', 'CLIH-FAIL']);
    expect(text).to.match(/prod-db\s+deny\s+macos_firewall/);
    expect(text).to.match(/wiki\s+allow\b/);
    expect(text).to.match(/macos_sip\s+pass/);
    const wide = cli(['hosts'], { COLUMNS: '' }); // a pipe: no width to fit
    const silent = wide.split('\n').find((l) => l.startsWith('CLIH-SILENT')) ?? '';
    expect(silent).to.not.contain('…');
    expect(silent.split(/\s+/).filter((w) => /^(osquery|windows)_/.test(w))).to.have.length.greaterThan(5);
    const narrow = cli(['hosts'], { COLUMNS: '130' });
    const lines = narrow.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).to.be.at.most(130);
    expect(narrow).to.match(/CLIH-SILENT.* … \+\d+$/m);
  });

  it('verdict --json carries the signed remediation link the gateway API gives', async () => {
    const out = JSON.parse(cli(['verdict', 'CLIH-FAIL', '--resource', 'prod-db', '--user', 'alice', '--json'])) as {
      remediation_page: string | null;
    };
    expect(out.remediation_page)
      .to.be.a('string')
      .and.match(new RegExp(`^${ts.url}/device\\?t=v1\\.`));
    const page = await ts.client.request(
      new URL(out.remediation_page ?? '').pathname + new URL(out.remediation_page ?? '').search,
    );
    expect(page.status, 'the running server accepts the CLI’s link').to.equal(200);
    expect(page.text).to.contain('The macOS firewall is off');
  });

  it('reports one last-seen time: the verdict, the admin API and the CLI agree', async () => {
    await failing.agent.post('/distributed/read', {}); // a check-in, no results
    const verdict = (
      await ts.client.request('/api/v1/verdict?serial=CLIH-FAIL&resource=prod-db', { token: ts.gatewayToken })
    ).json as { device: { last_seen_at: string } };
    const host = (await api('/api/v1/hosts/CLIH-FAIL')) as { host: { last_seen_at: string } };
    expect(host.host.last_seen_at).to.equal(verdict.device.last_seen_at);
    await sleep(1200); // flushed to the store every second, where the CLI reads it
    const cliHost = JSON.parse(cli(['host', 'CLIH-FAIL', '--json'])) as { host: { last_seen_at: string } };
    expect(cliHost.host.last_seen_at).to.equal(verdict.device.last_seen_at);
    const cliVerdict = JSON.parse(cli(['verdict', 'CLIH-FAIL', '--resource', 'prod-db', '--json'])) as {
      device: { last_seen_at: string };
    };
    expect(cliVerdict.device.last_seen_at).to.equal(verdict.device.last_seen_at);
  });

  it('osquery-flags prints osquery-examples/osquery.flags with the server’s host, CA and secret file', () => {
    const template = fs.readFileSync(path.join(REPO_ROOT, 'osquery-examples/osquery.flags'), 'utf8');
    const expected = template
      .replace('--tls_hostname=trustgate.example.com:8443', `--tls_hostname=${new URL(ts.url).host}`)
      .replace('--tls_server_certs=/etc/osquery/trustgate-ca.pem', `--tls_server_certs=${ts.certsDir}/ca.crt`)
      .replace('--enroll_secret_path=/etc/osquery/enroll_secret', `--enroll_secret_path=${ts.dataDir}/enroll_secret`);
    expect(expected).to.not.equal(template);
    expect(cli(['osquery-flags'])).to.equal(expected);
  });
});
