/** Durations as the policy and the CLI write them (`<n>s|m|h|d`, SPEC §5): parse and format. */
import { invalid } from './errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_PATTERN = '^[1-9][0-9]*[smhd]$';
const RE = new RegExp(DURATION_PATTERN);

/** Parses `<n>s|m|h|d` (SPEC §5) into milliseconds. */
export function parseDuration(text: string): number {
  if (!RE.test(text)) throw invalid(`invalid duration "${text}": expected <n>s, <n>m, <n>h or <n>d (e.g. 15m)`);
  const unit = text.slice(-1) as keyof typeof UNIT_MS;
  return Number(text.slice(0, -1)) * UNIT_MS[unit];
}

export function formatDuration(ms: number): string {
  for (const [u, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${u}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
