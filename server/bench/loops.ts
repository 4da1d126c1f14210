/**
 * How the bench drives the simulated fleet: a clock that can stand still (the fleet sees no time pass
 * while a phase measures in isolation), closed loops over the hosts for a time, and each host once.
 */

export interface PausableClock {
  now(): number;
  pause(): void;
  resume(): void;
}

/** A clock that can stand still: the fleet sees no time pass while the bench measures in isolation. */
export function pausableClock(): PausableClock {
  let offset = 0;
  let pausedAt: number | null = null;
  return {
    now: () => (pausedAt ?? Date.now()) - offset,
    pause() {
      pausedAt ??= Date.now();
    },
    resume() {
      if (pausedAt !== null) offset += Date.now() - pausedAt;
      pausedAt = null;
    },
  };
}

/** Runs `op` for hosts 0..n-1 round-robin with `concurrency` workers for `seconds`; returns how many completed. */
export async function closedLoop(
  n: number,
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = next++ % n;
        await op(i);
        done++;
      }
    }),
  );
  return done;
}

/** Runs `op` once for every host 0..n-1 with `concurrency` workers. */
export async function eachOnce(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await op(next++);
    }),
  );
}

/**
 * Which of two loads the k-th slice of an interleaved measurement runs: 0, 1, 1, 0, 0, 1, 1, 0, … (ABBA),
 * so a machine whose speed drifts during the measurement slows both loads alike, to first order.
 */
export const abba = (k: number): 0 | 1 => ((k + (k >> 1)) & 1) as 0 | 1;
