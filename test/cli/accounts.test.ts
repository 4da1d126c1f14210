/**
 * `trustgate accounts …` as a user runs it (real processes) against a running server's data directory: a
 * mapping made from the CLI pairs a person with a device in the running server within seconds (the gateway's
 * forward auth allows them), is listed, shows in the device's people, and is removed again; each audited.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startTestServer, REPO_ROOT, type TestServer } from '../support/server.js';
import { enrollDevice, type Device } from '../gateway/baseline.js';
import { pairedPacks } from '../devices/pairing-packs.js';

describe('trustgate accounts (CLI, real processes)', function () {
  this.timeout(120_000);
  const packs = pairedPacks();
  let ts: TestServer;
  let d: Device;

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server/cli/bin.js'), ...args], {
      env: {
        ...process.env,
        TRUSTGATE_DATA_DIR: ts.dataDir,
        TRUSTGATE_PACKS_DIR: ts.packsDir,
        TRUSTGATE_CERTS_DIR: ts.certsDir,
      },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const allowed = async (person: string): Promise<boolean> => {
    const r = await ts.client.request('/api/v1/authz', {
      token: ts.gatewayToken,
      headers: {
        'X-Device-Serial': d.serial,
        'X-Trustgate-Resource': 'payroll',
        'X-Auth-Request-Email': person,
        'X-Auth-Request-User': person,
      },
    });
    return r.status === 200;
  };
  const until = async (want: boolean, person: string): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if ((await allowed(person)) === want) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${person} was never ${want ? 'allowed' : 'denied'}`);
  };

  before(async () => {
    ts = await startTestServer({ packsDir: packs.dir });
    d = await enrollDevice(ts.client, ts.enrollSecret, 'linux', 'CLI-PAIR-1');
    await d.report({ unixTime: Math.floor(Date.now() / 1000) });
  });
  after(async () => {
    await ts.stop();
    packs.remove();
  });

  it('maps, lists, shows and unmaps; the running server follows within seconds', async () => {
    expect(await allowed('kim@example.com')).to.equal(false);
    const map = cli(['accounts', 'map', 'Kim', 'Kim@Example.com', '--serial', d.serial, '--json']);
    expect(map.code, map.err).to.equal(0);
    expect(JSON.parse(map.out).mapping).to.include({ account: 'kim', person: 'kim@example.com', serial: d.serial });
    await until(true, 'kim@example.com');

    const v = cli(['verdict', d.serial, '--resource', 'payroll', '--user', 'Kim@example.com', '--json']);
    expect(JSON.parse(v.out)).to.include({ decision: 'allow', user: 'kim@example.com' });
    const other = cli(['verdict', d.serial, '--resource', 'payroll', '--user', 'lee@example.com', '--json']);
    expect(JSON.parse(other.out).reasons[0].check).to.equal('device_user_mismatch');

    const list = cli(['accounts', 'list']);
    expect(list.code, list.err).to.equal(0);
    expect(list.out).to.contain('kim@example.com').and.contain(d.serial).and.contain('1 mapping(s)');
    const people = cli(['accounts', 'people', d.serial, '--json']);
    expect(JSON.parse(people.out).people).to.deep.equal([
      { person: 'kim@example.com', sources: ['mapping'], accounts: [] },
    ]);

    const bad = cli(['accounts', 'map', 'kim', 'kim']);
    expect(bad.code).to.not.equal(0);
    expect(bad.err).to.contain('e-mail address');

    const unmap = cli(['accounts', 'unmap', 'kim', '--serial', d.serial]);
    expect(unmap.code, unmap.err).to.equal(0);
    await until(false, 'kim@example.com');
    const audit = await ts.client.request('/api/v1/audit?type=device.account_mapped', { token: ts.adminToken });
    const entries = (audit.json as { entries: Array<{ actor: string }> }).entries;
    expect(entries).to.have.length(1);
    expect(entries[0]?.actor).to.match(/^cli:/);
  });
});
