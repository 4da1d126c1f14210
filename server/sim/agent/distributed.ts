/**
 * A simulated agent's distributed queries: distributed/read (check-in, integer `accelerate` → polling
 * every 5 s for that many seconds), the queries run with per-query discovery (one failing discovery
 * query drops the whole response), and distributed/write of queries, statuses, messages and stats;
 * failed writes are kept and merged into the next one.
 */
import { opt, simNow, type FleetContext } from './context.js';
import { go } from './requests.js';
import type { Agent } from './state.js';
import { isRecord } from './wire.js';

function runDistributed(
  ctx: FleetContext,
  a: Agent,
  queries: Record<string, unknown>,
  discovery: Record<string, unknown>,
): void {
  // One failing discovery query drops the whole response (osquery ≥ 5.8).
  const skip = new Set<string>();
  for (const [id, sql] of Object.entries(discovery)) {
    if (typeof sql !== 'string' || sql === '') return;
    const o = ctx.engine.run(a.profile, sql, a);
    if (!o.ok) return;
    if (o.rows.length === 0) skip.add(id);
  }
  for (const [id, sql] of Object.entries(queries)) {
    if (typeof sql !== 'string' || sql === '' || id === '') break;
    if (skip.has(id)) continue;
    const started = performance.now();
    const o = ctx.engine.run(a.profile, sql, a);
    ctx.st.distributedRun++;
    const w = a.pendingWrite ?? { queries: {}, statuses: {}, messages: {}, stats: {} };
    w.queries[id] = o.ok ? o.rows.map((r) => ({ ...r })) : [];
    w.statuses[id] = o.ok ? 0 : 1;
    w.messages[id] = o.message;
    w.stats[id] = { wall_time_ms: Math.round(performance.now() - started), user_time: 0, system_time: 0, memory: 0 };
    a.pendingWrite = w;
  }
}

/** One distributed poll: read, run what came, write the results (and any kept from before). */
export async function poll(ctx: FleetContext, a: Agent): Promise<void> {
  const o = opt(ctx, a);
  if (o.disable_distributed) return;
  const r = await go(ctx, a, 'read', {}, o.distributed_tls_max_attempts, 2);
  if (r && r.ok && isRecord(r.json)) {
    if (!a.checkedIn) {
      a.checkedIn = true;
      ctx.st.checkedIn++;
    }
    const acc = r.json['accelerate'];
    if (typeof acc === 'number' && Number.isInteger(acc) && acc > 0) a.accelerateUntil = simNow(ctx) + acc * 1000;
    const queries = isRecord(r.json['queries']) ? r.json['queries'] : {};
    const discovery = isRecord(r.json['discovery']) ? r.json['discovery'] : {};
    runDistributed(ctx, a, queries, discovery);
  }
  if (a.pendingWrite) {
    const w = a.pendingWrite;
    const wr = await go(ctx, a, 'write', { ...w }, o.distributed_tls_max_attempts, 2);
    // On failure the results stay in memory and go out, merged, with the next poll.
    if (wr && a.pendingWrite === w) a.pendingWrite = null;
  }
}
