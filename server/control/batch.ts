/**
 * Write batching for work that arrives in bursts (enrollment-time checks of a fleet enrolling at once):
 * items added within `windowMs` of the first are written together in one call, so the store runs one
 * transaction per window, not one per caller. Every caller waits for the write that holds its items.
 */

export interface Batcher<T> {
  /** Adds items to the next write; resolves (or rejects) with that write. */
  add(items: readonly T[]): Promise<void>;
}

export function createBatcher<T>(
  write: (items: T[]) => Promise<void>,
  opts: { windowMs?: number; maxItems?: number } = {},
): Batcher<T> {
  const windowMs = opts.windowMs ?? 5;
  const maxItems = opts.maxItems ?? 5000;
  let items: T[] = [];
  let due: { promise: Promise<void>; go: () => void; timer: NodeJS.Timeout } | undefined;

  function open(): NonNullable<typeof due> {
    let go = (): void => undefined;
    const started = new Promise<void>((resolve) => (go = resolve));
    const promise = started.then(() => {
      const batch = items;
      items = [];
      due = undefined;
      return write(batch);
    });
    const timer = setTimeout(go, windowMs);
    return { promise, go, timer };
  }

  return {
    add(more) {
      if (!more.length) return Promise.resolve();
      const d = (due ??= open());
      items.push(...more);
      if (items.length >= maxItems) {
        clearTimeout(d.timer);
        d.go();
      }
      return d.promise;
    },
  };
}
