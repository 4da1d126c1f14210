/**
 * Work taken a few items per turn of the event loop, so that the requests which arrive meanwhile are read
 * between them. The osquery surface (osquery/handler.ts) waits here for its turn after reading a body
 * and before parsing and storing it: the gateway's decisions, answered as soon as they are read, then
 * never wait behind more than `perTurn` agents' requests.
 *
 * Why: every osquery request read in one turn of the loop was handled in that same turn. Under the 100k
 * fleet's steady ingest a turn read dozens of log batches and check-ins (0.1-0.3 ms of work each); the
 * turn grew, more requests arrived meanwhile, and the next one grew further: busy stretches of 50 ms with
 * no idle moment, and a decision read at the start of one waited for all of it.
 *
 * FIFO: the waiters are let go in the order they came, `perTurn` per turn, in the check phase
 * (setImmediate). Their work runs right after, before the loop reads the sockets again.
 */

/**
 * Resolves in the check phase of this turn of the event loop (setImmediate), after the sockets were
 * read: long work done in slices (a bundle rebuild, a policy swap, a sweep, a batched delete) awaits it
 * between slices so the requests that arrived meanwhile are handled.
 */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waiters let go per turn of the event loop. */
export const PER_TURN = 8;

/** Resolves when it is the caller's turn. */
export type Turn = () => Promise<void>;

/** `beforeTurn` runs first in every turn (the gateway's queued decisions are written before the work). */
export function turnQueue(perTurn = PER_TURN, beforeTurn?: () => void): Turn {
  const waiting: Array<() => void> = [];
  let head = 0;
  let scheduled = false;

  function drain(): void {
    beforeTurn?.();
    const end = Math.min(waiting.length, head + perTurn);
    for (; head < end; head++) (waiting[head] as () => void)();
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
      scheduled = false;
      return;
    }
    if (head >= 1024) {
      waiting.splice(0, head);
      head = 0;
    }
    // the next turn is queued after this turn's work has run (its continuations are microtasks queued
    // above): what that work queued for the loop (a commit slice, an answer) goes before the next turn
    queueMicrotask(() => setImmediate(drain));
  }

  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    });
}
