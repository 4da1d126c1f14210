/**
 * The remediation page's live channel, GET /device/events: the page's status as server-sent events (a
 * `status` event whenever something shown changes, and at least every 20 s; `expired` when the link runs
 * out). Channels are capped per link and in total, so a leaked link cannot pin the server's resources:
 * beyond a cap the request is refused (unavailable, Retry-After) and the page polls /device/status.
 * The status itself comes from one shared producer per device (live-feed.ts): no timer per channel.
 */
import type { Context } from 'koa';
import type { Clock } from '../shared/clock.js';
import { unavailable } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { DeviceLink } from './link.js';
import { createLiveFeeds, type Ticker } from './live-feed.js';
import type { DeviceView } from './view.js';

export interface LiveDeps {
  clock: Clock;
  log: Logger;
  view(link: DeviceLink): Promise<DeviceView>;
  /** How often the shared producer re-reads the status of the open pages (live-feed.ts). */
  pollMs: number;
  /** The producer's timer (default setInterval). */
  ticker?: Ticker;
  /** Most channels open at once (all links). */
  maxTotal: number;
}

export interface LiveChannels {
  /** Streams the link's status on the raw response until the client goes away or the link expires. */
  open(ctx: Context, link: DeviceLink): Promise<void>;
}

const PER_LINK = 4;

export function createLiveChannels(deps: LiveDeps): LiveChannels {
  const feeds = createLiveFeeds(deps);
  const byLink = new Map<string, number>();
  let total = 0;

  function reserve(key: string): () => void {
    const mine = byLink.get(key) ?? 0;
    if (mine >= PER_LINK || total >= deps.maxTotal) {
      throw unavailable('Too many live connections; use /device/status.', { retryAfterS: 30 });
    }
    byLink.set(key, mine + 1);
    total += 1;
    return () => {
      total -= 1;
      const left = (byLink.get(key) ?? 1) - 1;
      if (left <= 0) byLink.delete(key);
      else byLink.set(key, left);
    };
  }

  async function open(ctx: Context, link: DeviceLink): Promise<void> {
    const release = reserve(`${link.serial}\u0000${link.user}\u0000${link.resource}`);
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    ctx.set('X-Accel-Buffering', 'no');
    // Written to the raw response (not through koa's body pipeline), so a client going away is not an error.
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200);
    res.write('retry: 3000\n\n');
    let closed = false;
    const sub = {
      expiresAt: link.expiresAt,
      write: (frame: string) => {
        if (!closed && !res.writableEnded) res.write(frame);
      },
      end: () => close(),
    };
    const { ready, unsubscribe } = feeds.subscribe(link, sub);
    const close = () => {
      if (closed) return;
      closed = true;
      release();
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    res.on('close', close);
    await ready;
  }

  return { open };
}
