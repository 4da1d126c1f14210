import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { runDemo } from '../../server/sim/demo.js';
import { createClient } from '../support/http.js';
import { must } from '../support/must.js';
import { REPO_PACKS } from '../support/server.js';

describe('runDemo (npm run demo)', function () {
  this.timeout(120_000);

  it('starts a server and a small fleet, prints where to look, shows progress and stops cleanly', async () => {
    const lines: string[] = [];
    let progress = '';
    const ctl = new AbortController();
    const tourPrinted = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (lines.some((l) => l.includes('Ctrl-C stops'))) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    const running = runDemo(['--hosts', '12', '--time-scale', '50', '--port', '0'], {
      print: (l) => lines.push(...l.split('\n')),
      progress: (t) => {
        progress += t;
      },
      signal: ctl.signal,
    });
    await Promise.race([tourPrinted, running]);
    const text = lines.join('\n');
    // the demo's packs are a copy: writing a pack through the API during the demo leaves the checkout alone
    const url = must(/Trustgate is running at (https:\/\/\S+) with/.exec(text)?.[1], 'the URL');
    const ca = must(/Dev CA \(for curl and your browser\):\s+(\S+)/.exec(text)?.[1], 'the CA file');
    const admin = must(/Admin token:\s+(\S+)/.exec(text)?.[1], 'the admin token');
    const root = must(/\(data in (\S+)\)/.exec(text)?.[1], 'the demo directory');
    const client = createClient(url, fs.readFileSync(ca, 'utf8'));
    const put = await client.request('/api/v1/packs/demo-extra', {
      method: 'PUT',
      token: admin,
      body: { queries: { demo_uptime: { query: 'SELECT total_seconds FROM uptime;', interval: 3600 } } },
    });
    client.close();
    expect(put.status, put.text).to.equal(200);
    expect(fs.existsSync(path.join(root, 'packs', 'demo-extra.json'))).to.equal(true);
    expect(fs.existsSync(path.join(REPO_PACKS, 'demo-extra.json'))).to.equal(false);

    ctl.abort();
    expect(await running).to.equal(0);
    expect(fs.existsSync(root), 'the demo removes its directory').to.equal(false);
    expect(text).to.match(/Trustgate is running at https:\/\/127\.0\.0\.1:\d+ with 12 simulated hosts/);
    expect(text).to.include('/api/v1/verdict?serial=');
    expect(text).to.include('/api/v1/hosts?status=failing');
    expect(text).to.include(`npx trustgate hosts --data-dir ${path.join(root, 'data')}`);
    expect(text).to.match(/A failing \w+ laptop/);
    expect(text).to.match(/\/device\?t=/);
    expect(progress).to.match(/enrolled 12\/12 · checked-in \d+ · failing \d+/);
  });
});
