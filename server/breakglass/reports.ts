/**
 * Read-only views of break glass: the users who break glass often (for admins), and a person's
 * eligibility for one resource from one device (for the remediation page): approval, longest grant,
 * the limit used in the window, and their active, pending or last declined grant there.
 */
import type { BreakGlassGrant } from '../domain/types.js';
import type { GrantCore } from './core.js';
import { approvalFor, limitUsage } from './policy.js';
import type { BreakGlassDeps, Eligibility, FrequentUser } from './service.js';

export async function frequentUsers(
  deps: Pick<BreakGlassDeps, 'repo' | 'policy' | 'clock'>,
  opts: { windowMs?: number; min?: number },
): Promise<FrequentUser[]> {
  const policy = deps.policy();
  const windowMs = opts.windowMs ?? policy.breakGlass.limit.windowMs;
  const min = opts.min ?? 2;
  const now = deps.clock.now();
  const byUser = new Map<string, BreakGlassGrant[]>();
  for (const g of await deps.repo.list({ since: now - windowMs })) {
    if (g.status === 'denied') continue;
    const list = byUser.get(g.user) ?? [];
    list.push(g);
    byUser.set(g.user, list);
  }
  const out: FrequentUser[] = [];
  for (const [user, gs] of byUser) {
    if (gs.length < min) continue;
    out.push({
      user,
      count: gs.length,
      windowMs,
      limit: policy.breakGlass.limit.count,
      lastAt: gs[0]?.createdAt ?? 0,
      lastReasons: gs.slice(0, 3).map((g) => g.reason),
      serials: [...new Set(gs.map((g) => g.serial))],
    });
  }
  return out.sort((a, b) => b.count - a.count || b.lastAt - a.lastAt);
}

export async function eligibility(
  core: GrantCore,
  serial: string,
  user: string,
  resource: string,
): Promise<Eligibility | undefined> {
  const { deps } = core;
  const policy = deps.policy();
  const res = policy.resources[resource];
  if (!res) return undefined;
  const now = deps.clock.now();
  const windowMs = policy.breakGlass.limit.windowMs;
  // Far enough back for the window, and for a grant approved late in its pending time that is still running.
  const mine = await deps.repo.list({
    user,
    since: now - Math.max(windowMs, core.pendingTtl + policy.breakGlass.maxDurationMs),
  });
  const inWindow = mine.filter((g) => g.createdAt > now - windowMs);
  const forHere = mine.filter((g) => g.serial === serial && g.tier === res.tier);
  const active = forHere.find((g) => g.status === 'active' && (g.expiresAt ?? 0) > now);
  const pending = forHere.find((g) => g.status === 'pending' && !core.pendingExpired(g, now));
  // Only when the newest request here was declined (newest first).
  const lastDenied = forHere[0]?.status === 'denied' ? forHere[0] : undefined;
  const declined = lastDenied && !active && !pending ? lastDenied : undefined;
  return {
    resource,
    resourceTitle: res.title ?? res.name,
    tier: res.tier,
    approval: approvalFor(policy, res.tier),
    maxDurationMs: policy.breakGlass.maxDurationMs,
    usage: limitUsage(policy, inWindow, now),
    active,
    pending,
    declined,
  };
}
