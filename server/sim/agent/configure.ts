/**
 * A simulated agent's config: fetched at start and every --config_refresh (config_tls_max_attempts
 * tries), compiled once per distinct response (shared by the fleet), then applied: options, the
 * host's schedule, differential state kept for queries whose SQL did not change, timers restarted.
 */
import { compileConfig } from '../config.js';
import type { QueryOutcome } from '../engine.js';
import type { PostResult } from '../transport.js';
import { addStatus, hostIdentifierOf, type FleetContext } from './context.js';
import { go } from './requests.js';
import { scheduleQuery } from './schedule.js';
import type { Agent } from './state.js';

function applyConfig(ctx: FleetContext, a: Agent, r: PostResult): void {
  if (!r.ok) return;
  const { configCache } = ctx;
  const text = r.text;
  let compiled = configCache.get(text);
  if (!compiled) {
    compiled = compileConfig(r.json, ctx.flags, text);
    if (configCache.size > 32) configCache.clear();
    configCache.set(text, compiled);
  }
  if (a.config?.hash === compiled.hash) return;
  const before = new Map<string, { prev: QueryOutcome | null; counter: number; sql: string }>();
  a.schedule.forEach((q, i) =>
    before.set(q.logName, { prev: a.prev[i] ?? null, counter: a.counters[i] ?? -1, sql: q.sql }),
  );
  a.config = compiled;
  a.hostIdentifier = hostIdentifierOf(ctx, a);
  a.schedule = compiled.scheduleFor(a.profile.platform);
  a.prev = a.schedule.map((q) => {
    const b = before.get(q.logName);
    return b && b.sql === q.sql ? b.prev : null;
  });
  a.counters = a.schedule.map((q) => {
    const b = before.get(q.logName);
    return b && b.sql === q.sql ? b.counter : -1;
  });
  a.ran = new Uint8Array(a.schedule.length);
  a.gen++;
  a.schedule.forEach((q, i) => scheduleQuery(ctx, a, i));
}

/** Fetches and applies the config; false (and a status line) when every attempt failed. */
export async function fetchConfig(ctx: FleetContext, a: Agent): Promise<boolean> {
  const r = await go(ctx, a, 'config', {}, ctx.flags.config_tls_max_attempts, 1);
  if (!r) {
    addStatus(ctx, a, 1, 'config.cpp', 340, 'Error reading config: Request failed');
    return false;
  }
  applyConfig(ctx, a, r);
  return true;
}
