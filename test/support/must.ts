/**
 * `must(value, what)`: the value when it is there, else a test failure that names what was missing.
 * Tests use it where the code would otherwise assert non-null (`x!`): a missing value fails with a
 * clear message instead of a TypeError further down.
 */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}
