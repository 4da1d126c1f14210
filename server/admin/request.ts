/**
 * Reading an admin request: who acts (the token's name, for the audit), path parameters (present by the
 * route's pattern; a missing one is refused, never assumed) and bounded query parameters.
 */
import type { Context } from 'koa';
import { invalid } from '../shared/errors.js';

export const actorOf = (ctx: Context): string => (ctx.state.actor as { name: string } | undefined)?.name ?? 'unknown';

/** The role of the token that authenticated the request (undefined before authentication). */
export const roleOf = (ctx: Context): string | undefined => (ctx.state.actor as { role?: string } | undefined)?.role;

/** A named path parameter of the matched route. */
export function pathParam(params: Readonly<Record<string, string>>, name: string): string {
  const v = params[name];
  if (v === undefined) throw invalid(`path parameter "${name}" is missing`);
  return v;
}

/** An optional string query parameter of at most `max` characters. */
export function text(v: unknown, name: string, max = 256): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max)
    throw invalid(`query parameter "${name}" must be a string of at most ${max} characters`);
  return v;
}

/** An optional integer query parameter in 0..max (`dflt` when absent). */
export function int(v: unknown, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw invalid(`query parameter "${name}" must be an integer between 0 and ${max}`);
  return n;
}
