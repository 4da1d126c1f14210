/**
 * The remediation page's live channel through the real server (HTTPS, real certificates, a real SQLite
 * file): many open pages of one device share one producer, so a change is rendered once per view
 * (trustgate_live_renders_total), not once per open page.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { enrollDevice } from '../gateway/baseline.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface Stream {
  /** The next `status` event's data. */
  next(): Promise<Record<string, unknown>>;
  /** Every status frame received, raw. */
  frames: string[];
  close(): void;
}

function openStream(ts: TestServer, pageUrl: string): Promise<Stream> {
  const u = new URL(pageUrl);
  const url = `${ts.url}/device/events${u.search}`;
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: ts.caPem }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) return reject(new Error(`events: ${res.statusCode}`));
      let buf = '';
      const frames: string[] = [];
      const waiting: Array<() => void> = [];
      let read = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let m = /event: status\ndata: .*\n\n/.exec(buf); m; m = /event: status\ndata: .*\n\n/.exec(buf)) {
          frames.push(m[0]);
          buf = buf.slice(m.index + m[0].length);
        }
        for (const w of waiting.splice(0)) w();
      });
      const next = async (): Promise<Record<string, unknown>> => {
        while (frames.length <= read) await new Promise<void>((r) => waiting.push(r));
        const f = frames[read++] ?? '';
        return JSON.parse(f.slice(f.indexOf('data: ') + 6)) as Record<string, unknown>;
      };
      resolve({ next, frames, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

async function renders(ts: TestServer): Promise<number> {
  const r = await ts.client.request('/metrics');
  const m = /^trustgate_live_renders_total (\d+)/m.exec(r.text);
  return Number(m?.[1] ?? Number.NaN);
}

describe('live page channels through the real server (HTTPS)', function () {
  this.timeout(60_000);
  const clock = new ManualClock();
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ clock });
  });
  after(async () => ts.stop());

  it('renders a change once per view however many pages of the device are open', async () => {
    const d = await enrollDevice(ts.client, ts.enrollSecret, 'darwin', 'LIVE-1');
    await d.report({ failing: ['macos_filevault'], unixTime: clock.now() / 1000 });
    const links: string[] = [];
    for (const user of ['alice@example.com', 'bob@example.com']) {
      const r = await ts.client.request(
        `/api/v1/verdict?serial=LIVE-1&resource=wiki&user=${encodeURIComponent(user)}`,
        {
          token: ts.gatewayToken,
        },
      );
      const page = (r.json as { remediation_page: string | null }).remediation_page;
      if (!page) throw new Error(`no remediation page: ${r.text}`);
      links.push(page);
    }
    // 4 pages (the most per link) for each of two people: 8 open streams of one device
    const streams: Stream[][] = [];
    for (const link of links) streams.push(await Promise.all([1, 2, 3, 4].map(() => openStream(ts, link))));
    for (const s of streams.flat()) expect(await s.next()).to.include({ decision: 'allow', would_deny: true });
    const before = await renders(ts);

    await d.report({ failing: [], unixTime: clock.now() / 1000 });
    for (const s of streams.flat()) expect(await s.next()).to.include({ would_deny: false });
    const rendered = (await renders(ts)) - before;
    // Every page of a person got the same frames, and each frame was rendered once for all four pages
    // (a sweep may also have caught the report half applied: count frames, not assume one).
    for (const pages of streams) {
      const first = pages[0]?.frames ?? [];
      for (const s of pages) expect(s.frames).to.deep.equal(first);
    }
    const perView = streams.map((pages) => (pages[0]?.frames.length ?? 0) - 1);
    expect(rendered).to.equal(perView.reduce((a, b) => a + b, 0));
    expect(rendered).to.be.lessThan(8);
    for (const s of streams.flat()) s.close();
  });
});
