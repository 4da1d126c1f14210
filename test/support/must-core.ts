/** `must`: a value a test needs, or a clear failure naming what was missing (instead of a `!` assertion). */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}
