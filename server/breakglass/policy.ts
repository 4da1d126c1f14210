/**
 * The break-glass rules of SPEC §6 as a pure function: which tiers allow it and how (approval
 * none | required | never), the longest grant, and the per-user limit in a rolling window.
 */
import type { Approval, BreakGlassGrant, Policy } from '../domain/types.js';
import { formatDuration } from '../shared/duration.js';

export type RefusalReason = 'unknown_resource' | 'tier_never' | 'duration' | 'limit';

export type BreakGlassDecision =
  | { ok: true; approval: 'none' | 'required'; tier: string }
  | { ok: false; code: 'forbidden' | 'conflict' | 'not_found'; why: RefusalReason; message: string; nextAt?: number };

/** Grants that count against the per-user limit: everything that was not declined by an approver. */
export const countsAgainstLimit = (g: BreakGlassGrant): boolean => g.status !== 'denied';

export interface LimitUsage {
  used: number;
  limit: number;
  windowMs: number;
  /** When the oldest counted request leaves the window (the next request becomes possible), if at the limit. */
  nextAt: number | null;
}

/** How much of the rolling window's allowance `userGrants` (any order) uses at `now`. */
export function limitUsage(policy: Policy, userGrants: readonly BreakGlassGrant[], now: number): LimitUsage {
  const { count, windowMs } = policy.breakGlass.limit;
  const inWindow = userGrants
    .filter((g) => countsAgainstLimit(g) && g.createdAt > now - windowMs)
    .sort((a, b) => a.createdAt - b.createdAt);
  const used = inWindow.length;
  let nextAt: number | null = null;
  if (used >= count) {
    const gate = inWindow[used - count];
    nextAt = gate ? gate.createdAt + windowMs : null;
  }
  return { used, limit: count, windowMs, nextAt };
}

export const approvalFor = (policy: Policy, tier: string): Approval => policy.breakGlass.approval[tier] ?? 'required';

const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function decideBreakGlass(input: {
  policy: Policy;
  resource: string;
  durationMs: number;
  userGrants: readonly BreakGlassGrant[];
  now: number;
}): BreakGlassDecision {
  const { policy, now } = input;
  const res = policy.resources[input.resource];
  if (!res)
    return { ok: false, code: 'not_found', why: 'unknown_resource', message: `resource "${input.resource}" not found` };
  const title = res.title ?? res.name;
  const approval = approvalFor(policy, res.tier);
  if (approval === 'never') {
    return {
      ok: false,
      code: 'forbidden',
      why: 'tier_never',
      message:
        `Emergency access is not available for ${title}: ` +
        'your IT team does not allow it for this kind of resource.',
    };
  }
  const max = policy.breakGlass.maxDurationMs;
  if (input.durationMs > max) {
    return {
      ok: false,
      code: 'forbidden',
      why: 'duration',
      message:
        `The longest emergency access allowed is ${formatDuration(max)}; ` +
        `${formatDuration(input.durationMs)} was requested.`,
    };
  }
  const usage = limitUsage(policy, input.userGrants, now);
  if (usage.used >= usage.limit) {
    const next = usage.nextAt !== null ? ` The next one is possible on ${dateOf(usage.nextAt)}.` : '';
    return {
      ok: false,
      code: 'conflict',
      why: 'limit',
      message:
        `Emergency access limit reached: ${usage.used} of ${usage.limit} used ` +
        `in the last ${formatDuration(usage.windowMs)}.${next}`,
      ...(usage.nextAt !== null ? { nextAt: usage.nextAt } : {}),
    };
  }
  return { ok: true, approval, tier: res.tier };
}
