/**
 * A hashed timer wheel for many lightweight timers: one array of numeric codes per time slot, driven
 * by a single timer (or by hand in tests). Codes are opaque integers chosen by the caller; cancelling
 * is the caller's job (it ignores codes it no longer expects).
 */
export interface TimerWheel {
  /** Schedules `code` to fire at real time `atMs` (rounded up to the slot). */
  schedule(atMs: number, code: number): void;
  /** Fires every code due at or before `nowMs`, in time order. Returns how many fired. */
  advance(nowMs: number, fire: (code: number) => void): number;
  /** Pending timers. */
  size(): number;
  clear(): void;
}

export function createTimerWheel(startMs: number, resolutionMs = 10): TimerWheel {
  const slots = new Map<number, number[]>();
  let cursor = Math.floor(startMs / resolutionMs);
  let pending = 0;
  return {
    schedule(atMs, code) {
      let slot = Math.ceil(atMs / resolutionMs);
      if (slot <= cursor) slot = cursor + 1;
      let list = slots.get(slot);
      if (!list) {
        list = [];
        slots.set(slot, list);
      }
      list.push(code);
      pending++;
    },
    advance(nowMs, fire) {
      const target = Math.floor(nowMs / resolutionMs);
      let fired = 0;
      // Skip empty stretches quickly when the wheel is sparse (e.g. a test jumping an hour ahead).
      while (cursor < target) {
        if (slots.size === 0) {
          cursor = target;
          break;
        }
        cursor++;
        const list = slots.get(cursor);
        if (!list) continue;
        slots.delete(cursor);
        pending -= list.length;
        for (let i = 0; i < list.length; i++) {
          fire(list[i] as number);
          fired++;
        }
      }
      return fired;
    },
    size: () => pending,
    clear() {
      slots.clear();
      pending = 0;
    },
  };
}
