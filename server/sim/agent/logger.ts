/**
 * A simulated agent's log forwarder, as osquery's BufferedLogForwarder: every logger_tls_period at
 * most logger_tls_max_lines lines, results first, then statuses (two POSTs, gzip when
 * logger_tls_compress). Only acknowledged lines leave the buffer; after the n-th consecutive failure a
 * stream waits period·n² (capped by logger_tls_backoff_max). Acknowledged result sets are remembered
 * for loss checks (trackAcks).
 */
import type { AgentOptions } from '../config.js';
import type { PostResult } from '../transport.js';
import { opt, simNow, type FleetContext } from './context.js';
import { go } from './requests.js';
import type { Agent, LogItem, StatusItem } from './state.js';
import { serializeResult, serializeStatus } from './wire.js';

const backoff = (o: AgentOptions, n: number): number => {
  if (o.logger_tls_backoff_max <= 0) return 0;
  return Math.min(o.logger_tls_period * n * n, o.logger_tls_backoff_max) * 1000;
};

function recordAcks(ctx: FleetContext, a: Agent, items: readonly LogItem[]): void {
  let rows = 0;
  for (const it of items) {
    rows += it.row ? 1 : (it.rows?.length ?? 0) + (it.removedRows?.length ?? 0);
    if (a.acked) {
      const exact = it.q.snapshot || it.q.removed;
      a.acked.set(it.q.logName, { logName: it.q.logName, rows: it.outcome.rows, exact, unixTime: it.unixTime });
    }
  }
  ctx.st.resultRowsAcked += rows;
}

/** What the answer to a result POST does: the sent lines leave the buffer, or the stream backs off. */
function afterResults(ctx: FleetContext, a: Agent, o: AgentOptions, items: LogItem[], r: PostResult | null): void {
  if (r) {
    // Exactly the lines that were sent are deleted.
    const idx = a.results.indexOf(items[0] as LogItem);
    if (idx >= 0) a.results.splice(idx, items.length);
    a.resFail = 0;
    ctx.st.resultLinesAcked += items.length;
    recordAcks(ctx, a, items);
  } else {
    a.resFail++;
    a.resNextOk = simNow(ctx) + backoff(o, a.resFail);
  }
}

/** What the answer to a status POST does: the sent lines leave the buffer, or the stream backs off. */
function afterStatuses(ctx: FleetContext, a: Agent, o: AgentOptions, items: StatusItem[], r: PostResult | null): void {
  if (r) {
    const idx = a.statuses.indexOf(items[0] as StatusItem);
    if (idx >= 0) a.statuses.splice(idx, items.length);
    a.stFail = 0;
    ctx.st.statusLinesAcked += items.length;
  } else {
    a.stFail++;
    a.stNextOk = simNow(ctx) + backoff(o, a.stFail);
  }
}

/** osquery's BufferedLogForwarder::check(): up to max_lines, results first, then statuses. */
export async function flush(ctx: FleetContext, a: Agent, force: boolean): Promise<void> {
  const o = opt(ctx, a);
  const now = simNow(ctx);
  const max = o.logger_tls_max_lines > 0 ? o.logger_tls_max_lines : 1024;
  const sendResults = a.results.length > 0 && (force || now >= a.resNextOk);
  const nRes = sendResults ? Math.min(a.results.length, max) : 0;
  const sendStatuses = a.statuses.length > 0 && (force || now >= a.stNextOk) && nRes < max;
  const nSt = sendStatuses ? Math.min(a.statuses.length, max - nRes) : 0;
  if (nRes > 0) {
    const items = a.results.slice(0, nRes);
    const data = items.map((it) => serializeResult(a, it));
    const r = await go(ctx, a, 'log', { log_type: 'result', data }, 1, 3, o.logger_tls_compress);
    afterResults(ctx, a, o, items, r);
  }
  if (nSt > 0) {
    const items = a.statuses.slice(0, nSt);
    const data = items.map((s) => serializeStatus(a, s));
    const r = await go(ctx, a, 'log', { log_type: 'status', data }, 1, 3, o.logger_tls_compress);
    afterStatuses(ctx, a, o, items, r);
  }
}
