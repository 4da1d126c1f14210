import { expect } from 'chai';
import { createLiveFeeds, RESEND_MS, type LiveSubscriber, type Ticker } from '../../server/people/live-feed.js';
import type { DeviceLink } from '../../server/people/link.js';
import type { DeviceView } from '../../server/people/view.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';

const START = Date.UTC(2026, 10, 27, 14, 0, 0);
const EXPIRES = START + 30 * 60_000;

/** A timer the test fires: `fire()` runs the registered sweep and awaits it. */
function manualTicker() {
  const active: Array<{ ms: number; fn: () => Promise<void>; stopped: boolean }> = [];
  const ticker: Ticker = {
    every(ms, fn) {
      const t = { ms, fn, stopped: false };
      active.push(t);
      return {
        stop: () => {
          t.stopped = true;
        },
      };
    },
  };
  const running = () => active.filter((t) => !t.stopped);
  return {
    ticker,
    running,
    async fire() {
      for (const t of running()) await t.fn();
    },
  };
}

function viewOf(link: DeviceLink, version: string): DeviceView {
  return {
    state: 'granted',
    link,
    resourceTitle: 'Prod DB',
    resourceUrl: null,
    devicePeople: [],
    host: undefined,
    decision: 'allow',
    wouldDeny: false,
    checks: [],
    lastReportAt: START - 60_000,
    maxAgeMs: 3_600_000,
    recheck: { phase: 'idle', requestedAt: null, availableAt: START, fixed: [], still: [] },
    breakGlass: undefined,
    grantExpiresAt: null,
    evaluatedAt: START,
    ref: 'ref',
    version,
  };
}

function setup() {
  const clock = new ManualClock(START);
  const t = manualTicker();
  const versions = new Map<string, string>();
  const reads: string[] = [];
  const feeds = createLiveFeeds({
    clock,
    log: silentLogger(),
    pollMs: 1000,
    ticker: t.ticker,
    view: async (link) => {
      reads.push(`${link.serial}/${link.user}`);
      return viewOf(link, versions.get(link.serial) ?? 'v1');
    },
  });
  return { clock, t, versions, reads, feeds };
}

function page(expiresAt = EXPIRES) {
  const frames: string[] = [];
  let ended = false;
  const sub: LiveSubscriber = { expiresAt, write: (f) => frames.push(f), end: () => (ended = true) };
  return { sub, frames, ended: () => ended };
}

const link = (serial: string, user = 'alice', expiresAt = EXPIRES): DeviceLink => ({
  serial,
  user,
  resource: 'prod-db',
  expiresAt,
});
const statusOf = (frame: string | undefined) =>
  JSON.parse(/^event: status\ndata: (.*)\n\n$/.exec(frame ?? '')?.[1] ?? 'null') as Record<string, unknown>;

describe('live page feeds: one producer per device', () => {
  it('many pages of one device: one view read and one frame per change, the same frame to all', async () => {
    const { t, versions, reads, feeds } = setup();
    const pages = Array.from({ length: 50 }, () => page());
    for (const p of pages) await feeds.subscribe(link('C02XX'), p.sub).ready;
    // each page got the current status on subscribing
    for (const p of pages) expect(p.frames).to.have.length(1);
    reads.length = 0;

    await t.fire();
    await t.fire();
    expect(reads).to.deep.equal(['C02XX/alice', 'C02XX/alice']); // one read per sweep, not per page
    for (const p of pages) expect(p.frames).to.have.length(1); // nothing changed: nothing sent

    versions.set('C02XX', 'v2');
    await t.fire();
    expect(reads).to.have.length(3);
    const sent = new Set(pages.map((p) => p.frames[1]));
    expect(sent.size).to.equal(1);
    expect(statusOf(pages[0]?.frames[1])).to.include({ version: 'v2', state: 'granted' });
  });

  it('uses one timer for every open page, and stops it when the last page goes', async () => {
    const { t, feeds } = setup();
    const subs = ['A', 'B', 'C'].flatMap((sn) => [1, 2].map(() => feeds.subscribe(link(sn), page().sub)));
    await Promise.all(subs.map((s) => s.ready));
    expect(t.running()).to.have.length(1);
    expect(t.running()[0]?.ms).to.equal(1000);
    for (const s of subs) s.unsubscribe();
    expect(t.running()).to.have.length(0);
    feeds.subscribe(link('A'), page().sub);
    expect(t.running()).to.have.length(1);
  });

  it('shares the heartbeat: an unchanged status is resent to every page once per 20 s', async () => {
    const { clock, t, reads, feeds } = setup();
    const pages = [page(), page(), page()];
    for (const p of pages) await feeds.subscribe(link('C02XX'), p.sub).ready;
    clock.advance(RESEND_MS);
    await t.fire();
    for (const p of pages) expect(p.frames).to.have.length(1);
    clock.advance(1000);
    reads.length = 0;
    await t.fire();
    expect(reads).to.have.length(1);
    for (const p of pages) expect(p.frames).to.have.length(2);
  });

  it('reads each (user, resource) view of a device once, and tells a page whose link ran out', async () => {
    const { clock, t, reads, feeds } = setup();
    const alice = page();
    const alice2 = page(START + 5000);
    const bob = page();
    await feeds.subscribe(link('C02XX'), alice.sub).ready;
    await feeds.subscribe(link('C02XX', 'alice', START + 5000), alice2.sub).ready;
    await feeds.subscribe(link('C02XX', 'bob'), bob.sub).ready;
    // each page's frame carries its own link's expiry
    expect(statusOf(alice.frames[0]).link_expires_at).to.equal(EXPIRES);
    expect(statusOf(alice2.frames[0]).link_expires_at).to.equal(START + 5000);
    reads.length = 0;
    clock.advance(5000);
    await t.fire();
    expect([...reads].sort()).to.deep.equal(['C02XX/alice', 'C02XX/bob']);
    expect(alice2.frames[1]).to.match(/^event: expired\n/);
    expect(alice2.ended()).to.equal(true);
    expect(alice.ended()).to.equal(false);
  });

  it('gives a page opened later the current status at once, without resending it to the others', async () => {
    const { feeds } = setup();
    const first = page();
    await feeds.subscribe(link('C02XX'), first.sub).ready;
    const second = page();
    await feeds.subscribe(link('C02XX'), second.sub).ready;
    expect(first.frames).to.have.length(1);
    expect(second.frames).to.have.length(1);
    expect(statusOf(second.frames[0])).to.include({ version: 'v1' });
  });
});
