/**
 * The device-identity CLI as a user runs it (real processes) against a running server's data directory:
 * inventory import (dry run, a bad row by line with nothing imported), pending devices approved from the
 * CLI and picked up by the running server, device certificates issued to files (key 0600), revoked from the
 * CLI and refused by the running server, the CRL, and an enroll secret revoked with its hosts.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '../support/http.js';
import { must } from '../support/must.js';
import { REPO_ROOT } from '../support/server.js';
import { admin, enroll, startModeServer, type ModeServer } from '../devices/support.js';

function cli(ms: ModeServer, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server/cli/bin.js'), ...args], {
    env: {
      ...process.env,
      TRUSTGATE_DATA_DIR: ms.ts.dataDir,
      TRUSTGATE_PACKS_DIR: ms.ts.packsDir,
      TRUSTGATE_CERTS_DIR: ms.ts.certsDir,
      ...env,
    },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const poll = async <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('trustgate devices / device-cert (CLI, real processes)', function () {
  this.timeout(120_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-cli-devices-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('inventory mode, unknown serials pending', () => {
    let ms: ModeServer;
    const env = { TRUSTGATE_ENROLL_MODE: 'inventory', TRUSTGATE_ENROLL_UNKNOWN: 'pending' };
    before(async () => {
      ms = await startModeServer(env);
    });
    after(async () => ms.stop());

    it('imports an inventory file: dry run first; a bad row is named by its line and nothing is imported', () => {
      const good = path.join(tmp, 'jamf.csv');
      fs.writeFileSync(good, 'serial,udid,email\nC02A,UUID-A,alice@example.com\n"C02,B",uuid-b,bob@example.com\n');
      const dry = cli(ms, ['devices', 'import', good, '--dry-run', '--json']);
      expect(dry.code, dry.err).to.equal(0);
      expect(JSON.parse(dry.out)).to.include({ rows: 2, added: 2, dry_run: true });
      const bad = path.join(tmp, 'bad.csv');
      fs.writeFileSync(bad, 'serial,owner\nOK1,a@example.com\nOK2,not-an-email\n');
      const refused = cli(ms, ['devices', 'import', bad]);
      expect(refused.code).to.equal(1);
      expect(refused.err).to.match(/bad\.csv: nothing imported: line 3: owner "not-an-email" is not an e-mail/);
      expect(cli(ms, ['devices', 'list', '--json']).out.trim()).to.equal('[]');
      const done = cli(ms, ['devices', 'import', good]);
      expect(done.out).to.contain('Imported 2 device(s)');
      const list = JSON.parse(cli(ms, ['devices', 'list', '--json']).out) as Array<{ serial: string }>;
      expect(list.map((d) => d.serial)).to.deep.equal(['C02,B', 'C02A']);
    });

    it('approves a pending device from the CLI; the running server applies it at the next check-in', async () => {
      const agent = must((await enroll(ms.ts, ms.ts.client, { serial: 'CLI71', uuid: 'uuid-71' })).agent, 'a key');
      const pending = cli(ms, ['devices', 'pending']);
      expect(pending.out).to.match(/CLI71\s+uuid-71/);
      const id = must(/^(\d+)\s+CLI71/m.exec(pending.out)?.[1], 'the pending host id');
      const ok = cli(ms, ['devices', 'approve', id]);
      expect(ok.code, ok.err).to.equal(0);
      const queries = await poll('the recheck queries', async () => {
        const r = (await agent.post('/distributed/read', {})).json as { queries: Record<string, string> };
        return Object.keys(r.queries).length ? r.queries : undefined;
      });
      expect(Object.keys(queries).some((q) => q.startsWith('tg_recheck_'))).to.equal(true);
      expect(cli(ms, ['devices', 'approve', id]).code, 'no longer pending').to.equal(1);
      expect(cli(ms, ['devices', 'approve', 'x']).code).to.equal(2);
    });
  });

  describe('certificate mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'certificate' });
    });
    after(async () => ms.stop());

    it('issues device certificates to files, and a CLI revocation is refused by the running server', async () => {
      const out = path.join(tmp, 'certs');
      const issued = cli(ms, ['device-cert', 'issue', '--serial', 'CLI81', '--out', out]);
      expect(issued.code, issued.err).to.equal(0);
      expect(issued.out).to.match(/PKCS#12 password \(shown once\): \S+/);
      for (const f of ['CLI81.crt', 'CLI81.key', 'CLI81.p12', 'device-ca.crt']) {
        expect(fs.existsSync(path.join(out, f)), f).to.equal(true);
      }
      expect(fs.statSync(path.join(out, 'CLI81.key')).mode & 0o777).to.equal(0o600);
      const client = createClient(ms.ts.url, ms.ts.caPem, {
        cert: fs.readFileSync(path.join(out, 'CLI81.crt'), 'utf8'),
        key: fs.readFileSync(path.join(out, 'CLI81.key'), 'utf8'),
      });
      const agent = must((await enroll(ms.ts, client, { serial: 'CLI81', uuid: 'uuid-81' })).agent, 'a key');
      expect((await agent.post('/config', {})).status).to.equal(200);
      const revoked = cli(ms, ['device-cert', 'revoke', '--serial', 'CLI81', '--reason', 'lost']);
      expect(revoked.code, revoked.err).to.equal(0);
      await poll('the refusal', async () => ((await agent.post('/config', {})).status === 401 ? true : undefined));
      const crl = cli(ms, ['device-cert', 'crl']);
      expect(crl.out).to.match(/BEGIN X509 CRL/);
      expect(cli(ms, ['device-cert', 'revoke']).code).to.equal(2);
      client.close();
    });

    it('issues many from a serials file (PEM only), and revokes an enroll secret with its hosts', async () => {
      const list = path.join(tmp, 'serials.txt');
      fs.writeFileSync(list, '# fleet\nBULK1\nBULK2\n');
      const r = cli(ms, ['device-cert', 'issue', '--serials-file', list, '--out', path.join(tmp, 'bulk'), '--json']);
      expect(r.code, r.err).to.equal(0);
      const issued = (JSON.parse(r.out) as { issued: Array<{ serial: string; files: string[] }> }).issued;
      expect(issued.map((i) => [i.serial, i.files.length])).to.deep.equal([
        ['BULK1', 2],
        ['BULK2', 2],
      ]);
      const secret = (await admin(ms.ts, '/enroll-secrets', { name: 'lab' })).json as { secret: string };
      const client = createClient(ms.ts.url, ms.ts.caPem, {
        cert: fs.readFileSync(path.join(tmp, 'bulk', 'BULK1.crt'), 'utf8'),
        key: fs.readFileSync(path.join(tmp, 'bulk', 'BULK1.key'), 'utf8'),
      });
      const e = await enroll({ ...ms.ts, enrollSecret: secret.secret }, client, { serial: 'BULK1', uuid: 'u-b1' });
      const agent = must(e.agent, `a key (${e.reply.text})`);
      const gone = cli(ms, ['secret', 'revoke', 'lab', '--revoke-hosts', '--json']);
      expect(JSON.parse(gone.out)).to.deep.equal({ revoked: 'lab', hosts_unenrolled: 1 });
      await poll('node_invalid', async () => ((await agent.post('/config', {})).status === 401 ? true : undefined));
      client.close();
    });
  });
});
