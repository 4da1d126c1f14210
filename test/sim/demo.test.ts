import { expect } from 'chai';
import { runDemo } from '../../server/sim/demo.js';

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
    ctl.abort();
    expect(await running).to.equal(0);
    const text = lines.join('\n');
    expect(text).to.match(/Trustgate is running at https:\/\/127\.0\.0\.1:\d+ with 12 simulated hosts/);
    expect(text).to.include('/api/v1/verdict?serial=');
    expect(text).to.include('/api/v1/hosts');
    expect(text).to.match(/A failing \w+ laptop/);
    expect(text).to.match(/\/device\?t=/);
    expect(progress).to.match(/enrolled 12\/12 · checked-in \d+ · failing \d+/);
  });
});
