/**
 * The loop that drives every simulated agent: starting a host (first status line, first config, its
 * logger, poll, config-refresh and drift timers), and what each timer on the fleet's wheel does when
 * it fires (sleepers woken, scheduled queries of the current config generation run, flush, poll,
 * config refresh, drift), each rescheduling itself.
 */
import {
  addStatus,
  at,
  GEN_BITS,
  hostIdentifierOf,
  K_CONFIG,
  K_DRIFT,
  K_FLUSH,
  K_POLL,
  K_QUERY,
  K_START,
  K_WAKE,
  KINDS,
  opt,
  simNow,
  simSec,
  track,
  type FleetContext,
} from './context.js';
import { fetchConfig } from './configure.js';
import { poll } from './distributed.js';
import { drift, scheduleDrift } from './drift.js';
import { flush } from './logger.js';
import { runScheduled } from './schedule.js';
import type { Agent } from './state.js';

/** Starts a host: enroll (through the first request), first config, then its timers. */
export async function startAgent(ctx: FleetContext, a: Agent, spread = false): Promise<void> {
  if (a.started) return;
  a.started = true;
  ctx.st.started++;
  a.hostIdentifier = hostIdentifierOf(ctx, a);
  addStatus(ctx, a, 0, 'init.cpp', 434, `osqueryd started [version=${a.osqueryVersion}]`);
  await fetchConfig(ctx, a);
  const { flags, rng } = ctx;
  const now = simNow(ctx);
  const period = opt(ctx, a).logger_tls_period * 1000;
  at(ctx, a, K_FLUSH, now + (spread ? rng.next() * period : period));
  at(ctx, a, K_POLL, now + (spread ? rng.next() * opt(ctx, a).distributed_interval * 1000 : 0));
  if (flags.config_refresh > 0) at(ctx, a, K_CONFIG, now + flags.config_refresh * 1000);
  scheduleDrift(ctx, a);
}

/** What a timer does when it fires (`c` is its wheel code). */
function fire(ctx: FleetContext, c: number): void {
  const gen = c % GEN_BITS;
  const rest = Math.floor(c / GEN_BITS);
  const kind = rest % KINDS;
  const a = ctx.agents[Math.floor(rest / KINDS)];
  if (!a) return;
  if (kind >= K_WAKE && kind < K_QUERY) {
    const w = a.wakers[kind - K_WAKE];
    a.wakers[kind - K_WAKE] = null;
    if (w) w();
    return;
  }
  if (kind >= K_QUERY) {
    if (gen !== a.gen % GEN_BITS) return;
    runScheduled(ctx, a, kind - K_QUERY);
    return;
  }
  const { flags } = ctx;
  switch (kind) {
    case K_START:
      void track(ctx, () => startAgent(ctx, a));
      break;
    case K_FLUSH:
      void track(ctx, async () => {
        await flush(ctx, a, false);
        at(ctx, a, K_FLUSH, simNow(ctx) + opt(ctx, a).logger_tls_period * 1000);
      });
      break;
    case K_POLL:
      void track(ctx, async () => {
        await poll(ctx, a);
        const accelerated = simNow(ctx) < a.accelerateUntil;
        at(ctx, a, K_POLL, simNow(ctx) + (accelerated ? 5 : opt(ctx, a).distributed_interval) * 1000);
      });
      break;
    case K_CONFIG:
      void track(ctx, async () => {
        const ok = await fetchConfig(ctx, a);
        at(ctx, a, K_CONFIG, simNow(ctx) + (ok ? flags.config_refresh : flags.config_accelerated_refresh) * 1000);
      });
      break;
    case K_DRIFT:
      drift(ctx, a);
      scheduleDrift(ctx, a);
      break;
    default:
      break;
  }
}

/** The fleet's tick: moves the engine's clock table to the current simulated second, fires due timers. */
export function createTicker(ctx: FleetContext): () => void {
  let lastTick = -1;
  const fireCode = (c: number): void => fire(ctx, c);
  return () => {
    const s = simSec(ctx);
    if (s !== lastTick) {
      lastTick = s;
      ctx.engine.setTick(s);
    }
    ctx.wheel.advance(ctx.clock.now(), fireCode);
  };
}

/** Wakes every sleeping agent (the fleet is stopping) and invalidates their pending wake timers. */
export function wakeAll(ctx: FleetContext): void {
  for (const a of ctx.agents) {
    for (let s = 0; s < a.wakers.length; s++) {
      const w = a.wakers[s];
      a.wakers[s] = null;
      if (w) w();
    }
    a.wakeGen++;
  }
}
