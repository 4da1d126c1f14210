/**
 * Nesting limits for untrusted JSON-like values. JSON.parse takes any depth, but JSON.stringify and every
 * recursive walk after it do not: a 5,000-deep array in a request is refused here, with a message, before
 * anything recursive sees it. The walk is iterative, so the check itself cannot overflow the stack.
 */

/** The deepest nesting of arrays/objects accepted in a request body (osquery's own results nest 2–3 deep). */
export const MAX_JSON_DEPTH = 64;

/** True if `value` nests arrays/objects deeper than `max` levels (a scalar is depth 0, `[]` is depth 1). */
export function nestedDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** The message of a refused, too deeply nested value. */
export const tooDeepMessage = (what: string, max: number = MAX_JSON_DEPTH): string =>
  `${what} nests arrays/objects deeper than ${max} levels`;
