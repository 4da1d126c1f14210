/** The CLI as a user runs it: a real process, the same TRUSTGATE_* settings as the server it acts on. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT, startTestServer, type TestServer } from '../support/server.js';
import { enrollFrom } from '../osquery/agent.js';

describe('trustgate CLI', function () {
  this.timeout(60_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
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
        ...env,
      },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('prints help with exit 0 and refuses an unknown command with exit 2', () => {
    const help = cli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.out).to.contain('token create');
    expect(help.out).to.contain('TRUSTGATE_DATA_DIR');
    const bad = cli(['frobnicate']);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.contain('unknown command');
  });

  it('creates a gateway token with --json that the running server accepts, then revokes it', async () => {
    const r = cli(['token', 'create', '--role', 'gateway', '--name', 'nginx-edge', '--json']);
    expect(r.code, r.err).to.equal(0);
    const { token } = JSON.parse(r.out) as { token: string };
    const ok = await ts.client.request('/api/v1/verdict?serial=X&resource=wiki', { token });
    expect(ok.status).to.equal(200);
    const list = cli(['token', 'list']);
    expect(list.out).to.contain('nginx-edge');
    expect(list.out).not.to.contain(token);
    expect(cli(['token', 'revoke', 'nginx-edge']).code).to.equal(0);
  });

  it('creates, lists and revokes enroll secrets; the new secret enrolls an agent', async () => {
    const r = cli(['secret', 'create', 'fleet-b', '--json']);
    expect(r.code, r.err).to.equal(0);
    const { secret } = JSON.parse(r.out) as { secret: string };
    await enrollFrom(ts.client, secret, 'enroll-request-windows11-osquery5.4.0.json', {
      serial: 'CLI-1',
      uuid: 'uuid-cli-1',
    });
    expect(cli(['secret', 'list']).out).to.contain('fleet-b');
    expect(cli(['secret', 'revoke', 'fleet-b']).code).to.equal(0);
    expect(cli(['secret', 'revoke', 'fleet-b']).code).to.equal(1);
  });

  it('shows hosts and verdicts as tables and JSON; an unknown device is denied', () => {
    const hosts = cli(['hosts', '--json']);
    expect(hosts.code, hosts.err).to.equal(0);
    expect((JSON.parse(hosts.out) as Array<{ serial: string }>).map((h) => h.serial)).to.include('CLI-1');
    const v = cli(['verdict', 'NO-SUCH-DEVICE', '--resource', 'prod-db', '--json']);
    expect(v.code, v.err).to.equal(0);
    const verdict = JSON.parse(v.out) as { decision: string; reasons: Array<{ check: string }> };
    expect(verdict.decision).to.equal('deny');
    expect(verdict.reasons[0]?.check).to.equal('unknown_device');
    const table = cli(['verdict', 'CLI-1', '--resource', 'prod-db', '--exit-code']);
    expect(table.code).to.equal(1);
    expect(table.out).to.match(/^DENY/);
    expect(cli(['verdict', 'CLI-1', '--resource', 'nope']).code).to.equal(1);
    expect(cli(['verdict', 'CLI-1']).code).to.equal(2);
  });

  it('converts Fleet policies into a pack of checks', () => {
    const dir = path.join(REPO_ROOT, 'test/fixtures/packs/fleet');
    const file = fs
      .readdirSync(dir)
      .map((f) => path.join(dir, f))
      .find((f) => /\.ya?ml$/.test(f) && /kind: policy/.test(fs.readFileSync(f, 'utf8')));
    if (!file) throw new Error(`no Fleet policy YAML among the fixtures in ${dir}`);
    const r = cli(['import', 'fleet', file]);
    expect(r.code, r.err).to.equal(0);
    const pack = JSON.parse(r.out) as { queries: Record<string, { check: { title: string; message: string } }> };
    const first = Object.values(pack.queries)[0];
    expect(first?.check.title).to.be.a('string').and.not.equal('');
  });

  it('verifies the audit chain, and names the first bad entry after tampering', () => {
    const ok = cli(['audit', 'verify']);
    expect(ok.code, ok.out + ok.err).to.equal(0);
    expect(ok.out).to.match(/intact: \d+ entries/);
    const db = new Database(path.join(ts.dataDir, 'trustgate.db'));
    const row = db.prepare<[], { seq: number }>('SELECT seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET 1').get();
    if (!row) throw new Error('the audit log has fewer than two entries');
    db.prepare('UPDATE audit_log SET actor = ? WHERE seq = ?').run('mallory', row.seq);
    db.close();
    const bad = cli(['audit', 'verify']);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.contain(`entry ${row.seq}`);
  });

  it('reads the same settings from flags as from the environment', () => {
    const r = cli(['token', 'list', `--data-dir=${ts.dataDir}`], { TRUSTGATE_DATA_DIR: '/nonexistent-trustgate' });
    expect(r.code, r.err).to.equal(0);
    const missing = cli(['token', 'list'], { TRUSTGATE_DATA_DIR: '/nonexistent-trustgate' });
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('/nonexistent-trustgate');
  });
});
