/**
 * The producer behind the remediation page's live channel: ONE per device, however many pages of it are
 * open. A single shared timer sweeps the devices that have subscribers; for each (user, resource) view of
 * a device it reads the view once, renders the `status` frame once when the version changed (or as the
 * shared 20 s heartbeat), and writes that same frame to every subscriber. A sweep yields to the event loop
 * between batches of views, so a few thousand open pages never hold the loop for a whole sweep.
 * Subscribers are plain writers (live.ts owns the HTTP side), so this is tested without sockets.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { DeviceLink } from './link.js';
import { statusPayload } from './render.js';
import type { DeviceView } from './view.js';
import { yieldToLoop } from '../shared/turns.js';

/** One open page: where its frames go. */
export interface LiveSubscriber {
  /** When this page's link runs out (links of one device differ in expiry). */
  expiresAt: number;
  write(frame: string): void;
  /** The channel is over (the link expired): end the stream. */
  end(): void;
}

/** A repeating timer; production uses setInterval, tests a manual one (the callback's promise is the sweep). */
export interface Ticker {
  every(ms: number, fn: () => Promise<void>): { stop(): void };
}

export const systemTicker: Ticker = {
  every(ms, fn) {
    const t = setInterval(() => void fn(), ms);
    return { stop: () => clearInterval(t) };
  },
};

export interface LiveFeedDeps {
  clock: Clock;
  log: Logger;
  view(link: DeviceLink): Promise<DeviceView>;
  /** How often the shared timer re-reads the views of the open pages. */
  pollMs: number;
  ticker?: Ticker;
  /** Called once per rendered status (metrics). */
  onRender?(): void;
}

export interface LiveFeeds {
  /**
   * Adds a page of `link`'s device; resolves once its first frame is written (the device's current
   * status, read for it at once). Returns the unsubscribe.
   */
  subscribe(link: DeviceLink, sub: LiveSubscriber): { ready: Promise<void>; unsubscribe(): void };
}

/** Every view is resent at least this often (the shared heartbeat). */
export const RESEND_MS = 20_000;
/** Views read between two yields to the event loop during a sweep. */
const SWEEP_BATCH = 32;

interface Feed {
  link: DeviceLink;
  subs: Set<LiveSubscriber>;
  /** Subscribers that have not had a status yet. */
  fresh: Set<LiveSubscriber>;
  version: string;
  sentAt: number;
  running: Promise<void> | undefined;
  again: boolean;
}

const subjectKey = (l: DeviceLink): string => `${l.user}\u0000${l.resource}`;
/** Reads the feed's view once and writes one rendered frame to whoever needs it. */
async function refreshOnce(deps: LiveFeedDeps, feed: Feed): Promise<void> {
  const now = deps.clock.now();
  for (const sub of feed.subs) {
    if (now < sub.expiresAt) continue;
    sub.write(`event: expired\ndata: ${JSON.stringify({ link_expires_at: sub.expiresAt })}\n\n`);
    sub.end();
  }
  if (feed.subs.size === 0) return;
  try {
    const view = await deps.view(feed.link);
    const changed = view.version !== feed.version || now - feed.sentAt > RESEND_MS;
    const targets = changed ? [...feed.subs] : [...feed.fresh];
    if (targets.length === 0) return;
    // One render; the pages differ at most in their link's expiry (one frame per distinct link).
    const payload = statusPayload(view, now);
    deps.onRender?.();
    const frames = new Map<number, string>();
    const frameFor = (expiresAt: number): string => {
      let f = frames.get(expiresAt);
      if (f === undefined) {
        f = `event: status\ndata: ${JSON.stringify({ ...payload, link_expires_at: expiresAt })}\n\n`;
        frames.set(expiresAt, f);
      }
      return f;
    };
    if (changed) {
      feed.version = view.version;
      feed.sentAt = now;
    }
    for (const sub of targets) {
      if (!feed.subs.has(sub)) continue;
      feed.fresh.delete(sub);
      sub.write(frameFor(sub.expiresAt));
    }
  } catch (e) {
    deps.log.warn({ event: 'people.sse_failed', err: errorMessage(e) }, 'live status update failed');
  }
}

/** One refresh at a time per feed; a request during one runs once more after it. */
function refresh(deps: LiveFeedDeps, feed: Feed): Promise<void> {
  if (feed.running) {
    feed.again = true;
    return feed.running;
  }
  const run = async (): Promise<void> => {
    do {
      feed.again = false;
      await refreshOnce(deps, feed);
    } while (feed.again);
    feed.running = undefined;
  };
  feed.running = run();
  return feed.running;
}

export function createLiveFeeds(deps: LiveFeedDeps): LiveFeeds {
  const ticker = deps.ticker ?? systemTicker;
  /** serial → (user, resource) → feed: one producer per device. */
  const devices = new Map<string, Map<string, Feed>>();
  let subscribers = 0;
  let timer: { stop(): void } | undefined;
  let sweeping = false;

  async function sweep(): Promise<void> {
    if (sweeping) return;
    sweeping = true;
    try {
      let n = 0;
      for (const feeds of [...devices.values()]) {
        for (const feed of [...feeds.values()]) {
          await refresh(deps, feed);
          if (++n % SWEEP_BATCH === 0) await yieldToLoop();
        }
      }
    } finally {
      sweeping = false;
    }
  }

  function feedOf(link: DeviceLink): Feed {
    let feeds = devices.get(link.serial);
    if (!feeds) devices.set(link.serial, (feeds = new Map()));
    const key = subjectKey(link);
    let feed = feeds.get(key);
    if (!feed) {
      const subject = { serial: link.serial, user: link.user, resource: link.resource, expiresAt: link.expiresAt };
      feed = {
        link: subject,
        subs: new Set(),
        fresh: new Set(),
        version: '',
        sentAt: 0,
        running: undefined,
        again: false,
      };
      feeds.set(key, feed);
    }
    return feed;
  }

  function subscribe(link: DeviceLink, sub: LiveSubscriber): { ready: Promise<void>; unsubscribe(): void } {
    const feed = feedOf(link);
    feed.subs.add(sub);
    feed.fresh.add(sub);
    subscribers += 1;
    timer ??= ticker.every(deps.pollMs, sweep);
    let gone = false;
    const unsubscribe = (): void => {
      if (gone) return;
      gone = true;
      feed.subs.delete(sub);
      feed.fresh.delete(sub);
      subscribers -= 1;
      const feeds = devices.get(link.serial);
      if (feed.subs.size === 0 && feeds?.get(subjectKey(link)) === feed) {
        feeds.delete(subjectKey(link));
        if (feeds.size === 0) devices.delete(link.serial);
      }
      if (subscribers === 0) {
        timer?.stop();
        timer = undefined;
      }
    };
    return { ready: refresh(deps, feed), unsubscribe };
  }

  return { subscribe };
}
