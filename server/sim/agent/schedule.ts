/**
 * A simulated agent's scheduled queries: when each runs (the current second a multiple of its splayed
 * interval, splay fixed per host and query), whether it runs (version, shard, pack discovery), and the
 * result lines it buffers: snapshots, differential events (added/removed, counter 0 for the first set)
 * or diffResults batches, and a status line for a query that fails.
 */
import { inShard, type AgentOptions, type ScheduledQuery } from '../config.js';
import { diffOutcomes, type QueryOutcome } from '../engine.js';
import { versionAtLeast } from '../identity.js';
import { hashSeed } from '../rng.js';
import { addStatus, at, K_QUERY, opt, simSec, trimBuffers, type FleetContext } from './context.js';
import type { Agent } from './state.js';

function splayed(ctx: FleetContext, a: Agent, q: ScheduledQuery): number {
  const pct = opt(ctx, a).schedule_splay_percent;
  if (pct <= 0) return q.interval;
  const span = Math.floor((q.interval * pct) / 100);
  if (span === 0) return q.interval;
  const r = hashSeed(ctx.seed, a.index, q.logName) / 4294967296;
  return Math.max(1, q.interval - span + Math.floor(r * (2 * span + 1)));
}

/** Sets the timer of the host's i-th scheduled query. */
export function scheduleQuery(ctx: FleetContext, a: Agent, i: number): void {
  const q = a.schedule[i];
  if (!q) return;
  const v = splayed(ctx, a, q);
  // osquery's scheduler runs a query when the current second is a multiple of its splayed interval.
  const now = simSec(ctx);
  const next = (Math.floor(now / v) + 1) * v;
  at(ctx, a, K_QUERY + i, next * 1000);
}

/** Runs the host's i-th scheduled query and buffers what it logs; sets its next run if `reschedule`. */
export function runScheduled(ctx: FleetContext, a: Agent, i: number, reschedule = true): void {
  const q = a.schedule[i];
  if (!q) return;
  if (ctx.paused && reschedule) return scheduleQuery(ctx, a, i);
  if (q.version && !versionAtLeast(a.osqueryVersion, q.version)) return;
  if (!inShard(a.identity().hostname, q.shard)) return;
  for (const d of q.discovery) {
    const o = ctx.engine.run(a.profile, d, a);
    if (!o.ok || o.rows.length === 0) return reschedule ? scheduleQuery(ctx, a, i) : undefined;
  }
  ctx.st.queriesRun++;
  const out = ctx.engine.run(a.profile, q.sql, a);
  a.ran[i] = 1;
  const o = opt(ctx, a);
  const now = simSec(ctx);
  if (!out.ok) {
    addStatus(ctx, a, 2, 'scheduler.cpp', 101, `Error executing scheduled query ${q.logName}: ${out.message}`);
  } else if (q.snapshot) {
    logSnapshot(a, q, out, o, now);
  } else {
    logDifferential(a, i, q, out, o, now);
  }
  trimBuffers(ctx, a);
  if (reschedule) scheduleQuery(ctx, a, i);
}

type Line = Agent['results'][number];

/** Buffers one result line of query `q`'s run at `now` (osquery's `unixTime`, `epoch`, `counter`). */
function push(
  a: Agent,
  q: ScheduledQuery,
  out: QueryOutcome,
  o: AgentOptions,
  now: number,
  counter: number,
  line: Pick<Line, 'action' | 'row' | 'rows' | 'removedRows'>,
): void {
  a.results.push({ q, unixTime: now, epoch: o.schedule_epoch, counter, ...line, outcome: out });
}

/** A snapshot query logs its whole result every run: one line, or one event per row. */
function logSnapshot(a: Agent, q: ScheduledQuery, out: QueryOutcome, o: AgentOptions, now: number): void {
  if (o.logger_snapshot_event_type) {
    for (const row of out.rows) push(a, q, out, o, now, 0, { action: 'snapshot', row, rows: null, removedRows: null });
  } else {
    push(a, q, out, o, now, 0, { action: 'snapshot', row: null, rows: out.rows, removedRows: null });
  }
}

/** A differential query logs what changed since its last run (everything the first time). */
function logDifferential(
  a: Agent,
  i: number,
  q: ScheduledQuery,
  out: QueryOutcome,
  o: AgentOptions,
  now: number,
): void {
  const prev = a.prev[i] ?? null;
  const first = (a.counters[i] ?? -1) < 0;
  const diff = diffOutcomes(first ? null : prev, out);
  a.prev[i] = out;
  const removed = q.removed ? diff.removed : [];
  if (first) a.counters[i] = 0;
  if (diff.added.length === 0 && removed.length === 0) return;
  if (!first) a.counters[i] = (a.counters[i] ?? 0) + 1;
  const counter = a.counters[i] ?? 0;
  if (o.logger_event_type) {
    for (const row of removed)
      push(a, q, out, o, now, counter, { action: 'removed', row, rows: null, removedRows: null });
    for (const row of diff.added)
      push(a, q, out, o, now, counter, { action: 'added', row, rows: null, removedRows: null });
  } else {
    push(a, q, out, o, now, counter, { action: 'batch', row: null, rows: diff.added, removedRows: removed });
  }
}
