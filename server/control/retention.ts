/**
 * The retention of answered distributed queries: every recheck, enrollment-time check and live query
 * stays in the store once answered (a live query's rows are its campaign's results, read through the
 * admin API; the others say what was asked of a device, and when, for whoever looks into it). Nothing
 * removed them, so the table grew with every recheck for as long as the server ran (100k hosts: a row
 * per check per host at enrollment alone). `prune` deletes those answered more than the retention ago,
 * a batch at a time with the event loop let go in between (SQLite writes are synchronous), at start and
 * every PRUNE_EVERY_MS; queries not answered yet are never deleted, however old.
 */
import type { DistributedRepo } from '../domain/ports.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { yieldToLoop } from '../shared/turns.js';

/** How often the retention runs once started. */
export const PRUNE_EVERY_MS = 60 * 60_000;
/** Queries deleted per statement (one short write: the osquery writes wait behind none longer). */
export const PRUNE_BATCH = 2000;

export interface RetentionDeps {
  distributed: Pick<DistributedRepo, 'pruneAnswered'>;
  clock: Clock;
  log: Logger;
  /** How long an answered query is kept (ms). */
  keepMs: number;
  batch?: number;
}

export interface Retention {
  /** Deletes what the retention no longer keeps, in batches; resolves to how many were deleted. */
  prune(): Promise<number>;
  /** Prunes now and every PRUNE_EVERY_MS until stopped (a failed run is logged, the next one tries again). */
  start(): void;
  stop(): void;
}

export function createRetention(deps: RetentionDeps): Retention {
  const batch = deps.batch ?? PRUNE_BATCH;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function pruneAll(): Promise<number> {
    // one cutoff for the whole run: what is answered meanwhile is the next run's
    const before = deps.clock.now() - deps.keepMs;
    let deleted = 0;
    for (;;) {
      const n = await deps.distributed.pruneAnswered(before, batch);
      deleted += n;
      if (n < batch) break;
      await yieldToLoop();
    }
    if (deleted > 0) {
      deps.log.info(
        { event: 'retention.distributed_pruned', deleted, answered_before: new Date(before).toISOString() },
        'deleted answered distributed queries past their retention',
      );
    }
    return deleted;
  }

  /** One run at a time: a call during one shares it. */
  const prune = (): Promise<number> =>
    (running ??= pruneAll().finally(() => {
      running = undefined;
    }));

  const runLogged = (): void => {
    prune().catch((e: unknown) =>
      deps.log.warn({ event: 'retention.failed', err: errorMessage(e) }, 'pruning answered distributed queries failed'),
    );
  };

  return {
    prune,
    start() {
      if (timer) return;
      runLogged();
      timer = setInterval(runLogged, PRUNE_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
