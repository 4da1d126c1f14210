/**
 * The policy swap in chunks that yield to the event loop: at 100k devices carrying every record over to
 * a new model takes long enough to stall the gateway (issue #16), so the new state is built off to the
 * side a chunk at a time while decisions keep using the current one. Records the ingest changed (or
 * that came or went) meanwhile are noted by the engine (`touched`) and carried over again at the end,
 * synchronously, just before the one reference swap: a decision never sees half a policy, and no
 * change made during the build is lost.
 */
import { emptyState, indexSerial, unindexSerial, type State } from './fleet.js';
import { layoutOf, remapRec } from './remap.js';
import type { Model } from './model.js';
import { yieldToLoop } from '../shared/turns.js';

/** Records carried over between two yields. */
export const SWAP_CHUNK = 500;

/**
 * `current()` is the engine's state as it is now (the same object throughout: the engine serializes
 * swaps); `touched` collects the host ids changed since the build started.
 */
export async function remapStateInChunks(
  current: () => State,
  model: Model,
  touched: ReadonlySet<number>,
  chunk = SWAP_CHUNK,
): Promise<State> {
  const cur = current();
  const { layout, same } = layoutOf(cur.model, model);
  const next = emptyState(model);
  const ids = [...cur.byId.keys()];
  for (let i = 0; i < ids.length; i += chunk) {
    for (let k = i; k < Math.min(ids.length, i + chunk); k++) {
      const rec = cur.byId.get(ids[k] ?? NaN);
      if (!rec || touched.has(rec.id)) continue; // carried over at the end
      const r = remapRec(rec, model, layout, same);
      next.byId.set(r.id, r);
      indexSerial(next, r);
    }
    await yieldToLoop();
  }
  // Catch up, synchronously: what changed during the build, as it is now.
  const now = current();
  for (const id of touched) {
    const old = next.byId.get(id);
    if (old) {
      next.byId.delete(id);
      unindexSerial(next, old);
    }
    const rec = now.byId.get(id);
    if (!rec) continue;
    const r = remapRec(rec, model, layout, same);
    next.byId.set(r.id, r);
    indexSerial(next, r);
  }
  next.pending = new Map(now.pending);
  next.pendingSerials = new Map(now.pendingSerials);
  // the same records, so the same serials: the bundle's sorted list (sorting 100k serials is tens of ms)
  // carries over, unless a serial came or went meanwhile (indexSerial / unindexSerial dropped it)
  if (now.sortedSerials && now.sortedSerials.length === next.bySerial.size) next.sortedSerials = now.sortedSerials;
  return next;
}

/** The engine's side of chunked swaps: what changed while one builds, and one swap at a time. */
export interface ChunkedSwaps {
  /** Notes a host changed (a no-op unless a swap is building). */
  touch(id: number): void;
  /** Notes every host of a serial changed. */
  touchSerial(serial: string): void;
  /** Builds the model (from the current one), carries the state over in chunks, swaps it in; in call order. */
  run(build: (current: Model) => Model): Promise<{ from: Model; model: Model }>;
}

export function createChunkedSwaps(get: () => State, set: (s: State) => void): ChunkedSwaps {
  let touched: Set<number> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const touch = (id: number): void => void touched?.add(id);
  return {
    touch,
    touchSerial(serial) {
      if (!touched) return;
      const s = get();
      for (const r of s.bySerial.get(serial) ?? []) touch(r.id);
      for (const [id, sn] of s.pending) if (sn === serial) touch(id);
    },
    run(build) {
      const run = queue.then(async () => {
        const from = get().model;
        const model = build(from); // throws (keeping the state) when the policy does not compile
        touched = new Set();
        try {
          set(await remapStateInChunks(get, model, touched));
        } finally {
          touched = undefined;
        }
        return { from, model };
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
