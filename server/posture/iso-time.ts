/**
 * ISO-8601 UTC formatting for the decision path. `Date.prototype.toISOString` costs microseconds
 * (a Date allocation plus generic formatting); verdicts format two or three times each, so this does
 * the calendar arithmetic directly (days → civil date, H. Hinnant's algorithm). Output is identical
 * to `new Date(ms).toISOString()` for years 1970–9999; anything else falls back to it.
 *
 * `isoTime` also remembers what it formatted, direct-mapped by millisecond (4,096 slots): a verdict
 * formats `now`, the same for every decision within a millisecond, and its device's last-seen time, the
 * same until the device checks in again. Formatting was a tenth of the bytes a verdict allocated (an
 * allocation profile under wrk), and each allocation brings the next young-generation collection nearer.
 */
const MAX_MS = 253402300800000; // 10000-01-01T00:00:00Z

const p2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const p3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

function parts(ms: number): [number, number, number, number, number, number, number] {
  const days = Math.floor(ms / 86_400_000);
  let rem = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const mi = Math.floor(rem / 60_000);
  rem -= mi * 60_000;
  const s = Math.floor(rem / 1000);
  return [year, month, day, h, mi, s, rem - s * 1000];
}

const inRange = (ms: number): boolean => Number.isInteger(ms) && ms >= 0 && ms < MAX_MS;

/** Slots of the cache of formatted times (a power of two). */
const SLOTS = 4096;
const slotMs = new Float64Array(SLOTS).fill(NaN);
const slotText: string[] = new Array<string>(SLOTS).fill('');

/** For the decision path: the cached text when this millisecond was formatted last in its slot. */
export function isoTime(ms: number): string {
  if (!inRange(ms)) return new Date(ms).toISOString();
  const slot = ms % SLOTS;
  if (slotMs[slot] === ms) return slotText[slot] as string;
  const text = isoTimeFlat(ms);
  slotMs[slot] = ms;
  slotText[slot] = text;
  return text;
}

/**
 * For strings kept in long-lived records (precomputed reasons): one flat string. A template literal
 * leaves a tree of small cons strings behind, several hundred bytes per time kept.
 */
export function isoTimeFlat(ms: number): string {
  if (!inRange(ms)) return new Date(ms).toISOString();
  const [y, mo, d, h, mi, s, milli] = parts(ms);
  return [y, '-', p2(mo), '-', p2(d), 'T', p2(h), ':', p2(mi), ':', p2(s), '.', p3(milli), 'Z'].join('');
}
