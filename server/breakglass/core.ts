/**
 * What every break-glass operation shares: mutations run one at a time (`exclusive`, so limit checks
 * and status transitions cannot race), a grant read or updated by id (or not_found), expiry (audited,
 * and the grant leaves the posture engine's overlay), the sweep that expires what is due, the audit
 * payload of a grant, and the webhook notice (in the background, when the policy names a webhook).
 */
import type { BreakGlassGrant } from '../domain/types.js';
import { notFound } from '../shared/errors.js';
import type { BreakGlassDeps } from './service.js';
import { breakGlassMessage, type BreakGlassEvent } from './webhook.js';

export interface GrantCore {
  readonly deps: BreakGlassDeps;
  /** A pending request not decided within this time expires. */
  readonly pendingTtl: number;
  /** Runs `fn` after every mutation started before it (serialised request/decision mutations). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  mustGet(id: string): Promise<BreakGlassGrant>;
  update(id: string, patch: Partial<BreakGlassGrant>): Promise<BreakGlassGrant>;
  pendingExpired(g: BreakGlassGrant, now: number): boolean;
  expire(g: BreakGlassGrant, now: number): Promise<BreakGlassGrant>;
  /** Expires grants past their end and pending requests past their TTL; returns those expired. */
  sweep(): Promise<BreakGlassGrant[]>;
  notify(event: BreakGlassEvent, g: BreakGlassGrant, actor: string, comment?: string): void;
}

/** A grant as its audit entries record it (plus event-specific fields). */
export const grantData = (g: BreakGlassGrant, extra: Record<string, unknown> = {}) => ({
  id: g.id,
  user: g.user,
  resource: g.resource,
  tier: g.tier,
  status: g.status,
  reason: g.reason,
  duration_ms: g.durationMs,
  expires_at: g.expiresAt,
  requested_by: g.requestedBy,
  ...extra,
});

export function createGrantCore(deps: BreakGlassDeps): GrantCore {
  const pendingTtl = deps.pendingTtlMs ?? 3_600_000;
  let chain: Promise<unknown> = Promise.resolve();

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  function notify(event: BreakGlassEvent, g: BreakGlassGrant, actor: string, comment?: string): void {
    const url = deps.policy().breakGlass.webhook;
    if (!url || !deps.webhook) return;
    const title = deps.policy().resources[g.resource]?.title;
    void deps.webhook.send(
      url,
      breakGlassMessage(event, g, {
        actor,
        ...(comment ? { comment } : {}),
        ...(title ? { resourceTitle: title } : {}),
      }),
    );
  }

  async function mustGet(id: string): Promise<BreakGlassGrant> {
    const g = await deps.repo.get(id);
    if (!g) throw notFound(`break-glass grant ${id}`);
    return g;
  }

  async function update(id: string, patch: Partial<BreakGlassGrant>): Promise<BreakGlassGrant> {
    const g = await deps.repo.update(id, patch);
    if (!g) throw notFound(`break-glass grant ${id}`);
    return g;
  }

  const pendingExpired = (g: BreakGlassGrant, now: number): boolean =>
    g.status === 'pending' && g.createdAt + pendingTtl <= now;

  async function expire(g: BreakGlassGrant, now: number): Promise<BreakGlassGrant> {
    const wasPending = g.status === 'pending';
    const out = await update(g.id, { status: 'expired' });
    if (!wasPending) deps.grants.remove(g.id);
    await deps.audit.tryRecord({
      type: 'break_glass.expired',
      actor: 'system',
      serial: g.serial,
      at: now,
      data: grantData(out, { was: wasPending ? 'pending' : 'active' }),
    });
    deps.log.info(
      { event: 'break_glass.expired', id: g.id, user: g.user, serial: g.serial },
      'break-glass grant expired',
    );
    return out;
  }

  const sweep = (): Promise<BreakGlassGrant[]> =>
    exclusive(async () => {
      const now = deps.clock.now();
      const out: BreakGlassGrant[] = [];
      for (const g of await deps.repo.list({ status: 'active' })) {
        if (g.expiresAt !== null && g.expiresAt <= now) out.push(await expire(g, now));
      }
      for (const g of await deps.repo.list({ status: 'pending' })) {
        if (pendingExpired(g, now)) out.push(await expire(g, now));
      }
      return out;
    });

  return { deps, pendingTtl, exclusive, mustGet, update, pendingExpired, expire, sweep, notify };
}
