/**
 * Evaluation: committed results → posture engine → changed check states, persisted write-behind (a
 * flush every 200 ms at most, written by the store in slices, one flush after another) with a watermark,
 * and decision transitions, logged and audited. At start (warm start) the engine gets every host with its
 * persisted states, and only the results stored after the watermark are evaluated again (the crash gap),
 * not everything.
 */
import type { AuditRecorder, CheckStateRepo, HostRepo, ResultRepo, SettingsRepo } from '../domain/ports.js';
import type { CheckState, Host, LatestResult } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { PostureEngine } from '../posture/engine.js';

export interface EvaluationDeps {
  engine: Pick<PostureEngine, 'onResults' | 'checks' | 'loadHosts'>;
  hosts: Pick<HostRepo, 'list'>;
  results: Pick<ResultRepo, 'latestSince'>;
  checkStates: Pick<CheckStateRepo, 'putMany' | 'columns'>;
  settings: Pick<SettingsRepo, 'get' | 'set'>;
  audit: Pick<AuditRecorder, 'decisionChanged'>;
  clock: Clock;
  log: Logger;
}

export interface Evaluation {
  /** Evaluates a host's newly committed latest results (the ingest path); states are persisted later. */
  onResults(host: Host, latest: readonly LatestResult[]): void;
  /** Evaluates stored latest results again, per host; hosts from `known` or one read of every host. */
  refeed(latest: readonly LatestResult[], known?: readonly Host[]): Promise<void>;
  /**
   * Loads every host with its persisted check states into the engine (after the runtime model's startup
   * reload installed the checks); with `catchUp`, evaluates the results stored after the watermark.
   */
  warmStart(opts: { catchUp: boolean }): Promise<{ hosts: Host[]; caughtUp: number }>;
  /**
   * Persists the check states changed since the last flush (shutdown, and the write-behind timer);
   * resolves with how many it wrote.
   */
  flush(): Promise<number>;
}

const WATERMARK = 'check_states_persisted_until';
const CATCH_UP_MARGIN_MS = 60_000;
const FLUSH_AFTER_MS = 200;

export function createEvaluation(deps: EvaluationDeps): Evaluation {
  const { engine, clock, log } = deps;
  let pendingStates = new Map<string, CheckState>();
  let flushTimer: NodeJS.Timeout | undefined;
  // Watermark: every result stored before it has its check states persisted. A restart re-evaluates only
  // results newer than the watermark (minus a margin for batches committed while a flush ran).
  let pendingSince: number | undefined;

  /** The flush running now: flushes run one after another (a later one's states are newer). */
  let flushing: Promise<number> = Promise.resolve(0);
  function flush(): Promise<number> {
    const run = flushing.then(flushNow, flushNow);
    flushing = run;
    return run;
  }

  /**
   * Writes the states pending now. The write takes several turns of the event loop (the store writes in
   * slices), so results evaluated meanwhile wait for the next flush, which starts after this one.
   */
  async function flushNow(): Promise<number> {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (!pendingStates.size) return 0;
    const batch = [...pendingStates.values()];
    const since = pendingSince ?? clock.now();
    pendingStates = new Map();
    pendingSince = undefined;
    try {
      await deps.checkStates.putMany(batch);
      await deps.settings.set(WATERMARK, String(pendingSince ?? clock.now()));
      return batch.length;
    } catch (e) {
      log.error(
        { event: 'check_states.persist_failed', err: e, count: batch.length },
        'could not persist check states; they are recomputed from results at restart',
      );
      pendingSince = Math.min(pendingSince ?? since, since);
      return 0;
    }
  }

  function onResults(host: Host, latest: readonly LatestResult[]): void {
    const out = engine.onResults(host, latest);
    if (out.changed.length && pendingSince === undefined) pendingSince = clock.now();
    for (const s of out.changed) pendingStates.set(`${s.hostId}\u0000${s.checkId}`, s);
    if (out.changed.length && !flushTimer) flushTimer = setTimeout(() => void flush(), FLUSH_AFTER_MS);
    for (const t of out.transitions) {
      const { serial, tier, from, to, reasons } = t;
      log.info({ event: 'verdict.changed', serial, tier, from, to, reasons }, 'device decision changed');
      deps.audit.decisionChanged({ serial, tier, from, to, reasons });
    }
  }

  async function refeed(latest: readonly LatestResult[], known?: readonly Host[]): Promise<void> {
    if (!latest.length) return;
    const byHost = new Map<number, LatestResult[]>();
    for (const l of latest) {
      const list = byHost.get(l.hostId);
      if (list) list.push(l);
      else byHost.set(l.hostId, [l]);
    }
    const hosts = new Map<number, Host>();
    for (const h of known ?? (await deps.hosts.list())) if (byHost.has(h.id)) hosts.set(h.id, h);
    for (const [hostId, ls] of byHost) {
      const host = hosts.get(hostId);
      if (host) onResults(host, ls);
    }
  }

  /** Re-evaluates the results stored after the last persisted check states (the crash gap). */
  async function catchUp(known: readonly Host[]): Promise<number> {
    const mark = Number((await deps.settings.get(WATERMARK)) ?? 0);
    const keys = engine.checks().map((c) => `${c.pack}/${c.id}`);
    const latest = await deps.results.latestSince(Math.max(0, mark - CATCH_UP_MARGIN_MS), keys);
    await refeed(latest, known);
    return latest.length;
  }

  return {
    onResults,
    refeed,
    flush,
    async warmStart(opts) {
      const ids = engine.checks().map((c) => c.id);
      const [hosts, states] = await Promise.all([deps.hosts.list(), deps.checkStates.columns(ids)]);
      engine.loadHosts(hosts, states, ids);
      return { hosts, caughtUp: opts.catchUp ? await catchUp(hosts) : 0 };
    },
  };
}
