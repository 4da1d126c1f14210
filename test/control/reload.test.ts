/**
 * packs/ is the source of truth: the running server reloads it when its files change (and on SIGHUP,
 * which calls the same debounced reload).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { watchPacksDir } from '../../server/control/model.js';
import { silentLogger } from '../../server/shared/log.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('packs directory reload', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.stop();
  });

  const packNames = async (): Promise<string[]> => {
    const r = await ts.client.request('/api/v1/packs', { token: ts.adminToken });
    return (r.json as { packs: Array<{ name: string }> }).packs.map((p) => p.name);
  };
  const until = async (cond: () => Promise<boolean>, ms = 10_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const pack = {
    queries: { extra_uptime: { query: 'SELECT total_seconds FROM uptime;', interval: 600, snapshot: true } },
  };

  it('installs a pack file written into the directory, and drops it when the file goes', async () => {
    expect(await packNames()).not.to.include('extra');
    const file = path.join(ts.packsDir, 'extra.json');
    fs.writeFileSync(file, JSON.stringify(pack));
    await until(async () => (await packNames()).includes('extra'));
    fs.rmSync(file);
    await until(async () => !(await packNames()).includes('extra'));
  });

  it('keeps the running policy when the policy file turns invalid', async () => {
    const before = (await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json;
    const file = path.join(ts.packsDir, 'policy.yaml');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, 'tiers: [not, a, policy\n');
    fs.writeFileSync(path.join(ts.packsDir, 'extra.json'), JSON.stringify(pack));
    // the pack beside it still loads: the reload happened, with the last good policy
    await until(async () => (await packNames()).includes('extra'));
    expect((await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json).to.deep.equal(before);
    fs.writeFileSync(file, good);
    fs.rmSync(path.join(ts.packsDir, 'extra.json'));
    await until(async () => !(await packNames()).includes('extra'));
  });
});

describe('watchPacksDir', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reloads once, 300 ms after the last change or reload() (SIGHUP), and never after stop', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-watch-'));
    let reloads = 0;
    const model = {
      packsDir: dir,
      reload: async () => {
        reloads++;
        return { errors: [] };
      },
    };
    const watch = watchPacksDir(model, silentLogger());
    try {
      watch.reload();
      await wait(100);
      watch.reload();
      await wait(150);
      expect(reloads, 'debounced').to.equal(0);
      await wait(300);
      expect(reloads).to.equal(1);
      fs.writeFileSync(path.join(dir, 'a.json'), '{}');
      fs.writeFileSync(path.join(dir, 'b.json'), '{}');
      for (let i = 0; i < 100 && reloads < 2; i++) await wait(50);
      await wait(400);
      expect(reloads, 'one reload for both files').to.equal(2);
      watch.reload();
      watch.stop();
      fs.writeFileSync(path.join(dir, 'c.json'), '{}');
      await wait(500);
      expect(reloads).to.equal(2);
    } finally {
      watch.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps running when a reload fails', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-watch-'));
    let reloads = 0;
    const model = {
      packsDir: dir,
      reload: async () => {
        reloads++;
        throw new Error('bad policy');
      },
    };
    const watch = watchPacksDir(model, silentLogger());
    try {
      watch.reload();
      await wait(400);
      watch.reload();
      await wait(400);
      expect(reloads).to.equal(2);
    } finally {
      watch.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
