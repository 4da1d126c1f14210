/**
 * Break glass (SPEC §6): request, approve, decline, cancel, revoke, review, expire. Every event is
 * audited; requests and decisions notify the optional webhook in the background; active grants are pushed
 * to the posture engine's overlay (injected) so verdicts allow with `break_glass`.
 */
import type { AuditRecorder, BreakGlassRepo } from '../domain/ports.js';
import type { BreakGlassGrant, GrantStatus, Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { AppError, conflict, errorMessage, invalid, notFound } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { approvalFor, decideBreakGlass, limitUsage, type LimitUsage } from './policy.js';
import { breakGlassMessage, type BreakGlassEvent, type WebhookNotifier } from './webhook.js';

type Awaitable<T> = T | Promise<T>;

/** The posture engine's overlay of active grants (wire addGrant/removeGrant to these). */
export interface GrantOverlay {
  add(grant: BreakGlassGrant): void;
  remove(grantId: string): void;
}

export interface BreakGlassDeps {
  repo: BreakGlassRepo;
  grants: GrantOverlay;
  audit: Pick<AuditRecorder, 'record' | 'tryRecord'>;
  clock: Clock;
  log: Logger;
  policy(): Policy;
  /** True when a device with this serial is enrolled (grants are only for known devices). */
  deviceKnown(serial: string): Awaitable<boolean>;
  /** Optional: webhook delivery (the URL comes from policy break_glass.webhook). */
  webhook?: WebhookNotifier;
  newId?: () => string;
  /** A pending request not decided within this time expires (default 1 h). */
  pendingTtlMs?: number;
  /** How often `start()` sweeps for expired grants (default 5 s). */
  sweepEveryMs?: number;
}

export interface BreakGlassRequestInput {
  serial: string;
  user: string;
  resource: string;
  reason: string;
  durationMs: number;
  /** Who asked: the user (signed page link) or the admin token's name acting for the user. */
  requestedBy: string;
  /** Repeated submits with the same key return the same grant instead of a new one. */
  idempotencyKey?: string;
}

export interface Eligibility {
  resource: string;
  resourceTitle: string;
  tier: string;
  approval: 'none' | 'required' | 'never';
  maxDurationMs: number;
  usage: LimitUsage;
  active: BreakGlassGrant | undefined;
  pending: BreakGlassGrant | undefined;
  /** The most recent grant declined by an approver within the window (its decisionComment says why). */
  declined: BreakGlassGrant | undefined;
}

export interface FrequentUser {
  user: string;
  count: number;
  windowMs: number;
  limit: number;
  lastAt: number;
  lastReasons: string[];
  serials: string[];
}

export interface BreakGlassService {
  request(input: BreakGlassRequestInput): Promise<{ grant: BreakGlassGrant; created: boolean }>;
  approve(id: string, actor: string, comment?: string): Promise<BreakGlassGrant>;
  deny(id: string, actor: string, comment: string): Promise<BreakGlassGrant>;
  revoke(id: string, actor: string, comment?: string): Promise<BreakGlassGrant>;
  review(id: string, actor: string, comment?: string): Promise<BreakGlassGrant>;
  /** The requester withdraws a pending request (recorded as revoked by them). */
  cancel(id: string, user: string): Promise<BreakGlassGrant>;
  get(id: string): Promise<BreakGlassGrant | undefined>;
  list(filter?: { status?: GrantStatus; user?: string; serial?: string; since?: number }): Promise<BreakGlassGrant[]>;
  /** Users with at least `min` (default 2) counted requests in the window (default: the policy's). */
  frequent(opts?: { windowMs?: number; min?: number }): Promise<FrequentUser[]>;
  eligibility(serial: string, user: string, resource: string): Promise<Eligibility | undefined>;
  /** Audits the first use of a grant (call when a verdict allowed because of it). Never throws. */
  noteUse(grantId: string, info?: { resource?: string; serial?: string }): void;
  /** How many decisions a grant has served since start (for admin lists). */
  uses(grantId: string): number;
  /** Expires grants past their end (and pending requests past their TTL). Returns those expired. */
  sweep(): Promise<BreakGlassGrant[]>;
  /** Startup: expires what ended while down, then pushes every active grant to the overlay. */
  load(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createBreakGlassService(deps: BreakGlassDeps): BreakGlassService {
  const newId = deps.newId ?? (() => `bg_${randomId(9)}`);
  const pendingTtl = deps.pendingTtlMs ?? 3_600_000;
  const idempotent = new Map<string, { id: string; at: number }>();
  const used = new Map<string, number>();
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  /** Serialises request/decision mutations so limit checks and status transitions cannot race. */
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

  const grantData = (g: BreakGlassGrant, extra: Record<string, unknown> = {}) => ({
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

  function pendingExpired(g: BreakGlassGrant, now: number): boolean {
    return g.status === 'pending' && g.createdAt + pendingTtl <= now;
  }

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

  async function sweep(): Promise<BreakGlassGrant[]> {
    return exclusive(async () => {
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
  }

  async function request(input: BreakGlassRequestInput): Promise<{ grant: BreakGlassGrant; created: boolean }> {
    return exclusive(async () => {
      const now = deps.clock.now();
      for (const [k, v] of idempotent) if (v.at < now - 3_600_000) idempotent.delete(k);
      const idemKey = input.idempotencyKey
        ? `${input.serial}\u0000${input.user}\u0000${input.idempotencyKey}`
        : undefined;
      if (idemKey) {
        const prior = idempotent.get(idemKey);
        const g = prior ? await deps.repo.get(prior.id) : undefined;
        if (g) return { grant: g, created: false };
      }
      if (input.user.trim() === '')
        throw invalid(
          'Emergency access needs the user it is for; open the resource through your company sign-in to get a link that names you.',
        );
      const reason = input.reason.trim();
      if (reason.length < 10)
        throw invalid(
          'Please give a reason of at least 10 characters (for example: "Paging incident INC-123, need read access to logs").',
        );
      if (!Number.isInteger(input.durationMs) || input.durationMs <= 0) throw invalid('duration must be positive');
      const policy = deps.policy();
      const windowMs = policy.breakGlass.limit.windowMs;
      const userGrants = await deps.repo.list({ user: input.user, since: now - windowMs });
      const d = decideBreakGlass({ policy, resource: input.resource, durationMs: input.durationMs, userGrants, now });
      if (!d.ok) {
        if (d.why !== 'unknown_resource') {
          await deps.audit.record({
            type: 'break_glass.refused',
            actor: input.requestedBy,
            serial: input.serial,
            at: now,
            data: {
              user: input.user,
              resource: input.resource,
              reason,
              duration_ms: input.durationMs,
              why: d.why,
              message: d.message,
            },
          });
        }
        throw new AppError(d.code, d.message, { why: d.why, ...(d.nextAt !== undefined ? { next_at: d.nextAt } : {}) });
      }
      if (!(await deps.deviceKnown(input.serial))) throw notFound(`device ${input.serial}`);
      const active = d.approval === 'none';
      const grant: BreakGlassGrant = {
        id: newId(),
        serial: input.serial,
        user: input.user,
        resource: input.resource,
        tier: d.tier,
        reason,
        durationMs: input.durationMs,
        status: active ? 'active' : 'pending',
        createdAt: now,
        activatedAt: active ? now : null,
        expiresAt: active ? now + input.durationMs : null,
        requestedBy: input.requestedBy,
        approvedBy: null,
        revokedBy: null,
        reviewedBy: null,
        reviewedAt: null,
        decisionComment: null,
      };
      await deps.repo.insert(grant);
      await deps.audit.record({
        type: 'break_glass.requested',
        actor: input.requestedBy,
        serial: grant.serial,
        at: now,
        data: grantData(grant, { approval: d.approval }),
      });
      if (active) deps.grants.add(grant);
      if (idemKey) idempotent.set(idemKey, { id: grant.id, at: now });
      deps.log.info(
        {
          event: 'break_glass.requested',
          id: grant.id,
          user: grant.user,
          serial: grant.serial,
          resource: grant.resource,
          status: grant.status,
        },
        'break-glass requested',
      );
      notify('requested', grant, input.requestedBy);
      return { grant, created: true };
    });
  }

  const decide = (id: string, fn: (g: BreakGlassGrant, now: number) => Promise<BreakGlassGrant>) =>
    exclusive(async () => fn(await mustGet(id), deps.clock.now()));

  return {
    request,
    approve: (id, actor, comment) =>
      decide(id, async (g, now) => {
        if (pendingExpired(g, now)) {
          await expire(g, now);
          throw conflict(`break-glass grant ${id} expired before it was approved`);
        }
        if (g.status !== 'pending') throw conflict(`break-glass grant ${id} is ${g.status}, not pending`);
        const out = await update(id, {
          status: 'active',
          activatedAt: now,
          expiresAt: now + g.durationMs,
          approvedBy: actor,
          decisionComment: comment ?? null,
        });
        await deps.audit.record({
          type: 'break_glass.approved',
          actor,
          serial: g.serial,
          at: now,
          data: grantData(out, { comment: comment ?? null }),
        });
        deps.grants.add(out);
        notify('approved', out, actor, comment);
        return out;
      }),
    deny: (id, actor, comment) =>
      decide(id, async (g, now) => {
        if (g.status !== 'pending') throw conflict(`break-glass grant ${id} is ${g.status}, not pending`);
        const out = await update(id, { status: 'denied', revokedBy: actor, decisionComment: comment });
        await deps.audit.record({
          type: 'break_glass.denied',
          actor,
          serial: g.serial,
          at: now,
          data: grantData(out, { comment }),
        });
        notify('denied', out, actor, comment);
        return out;
      }),
    revoke: (id, actor, comment) =>
      decide(id, async (g, now) => {
        if (g.status !== 'active' && g.status !== 'pending')
          throw conflict(`break-glass grant ${id} is ${g.status}; only active or pending grants can be revoked`);
        const out = await update(id, {
          status: 'revoked',
          revokedBy: actor,
          ...(g.status === 'active' ? { expiresAt: Math.min(g.expiresAt ?? now, now) } : {}),
        });
        deps.grants.remove(id);
        await deps.audit.record({
          type: 'break_glass.revoked',
          actor,
          serial: g.serial,
          at: now,
          data: grantData(out, { comment: comment ?? null, was: g.status }),
        });
        notify('revoked', out, actor, comment);
        return out;
      }),
    review: (id, actor, comment) =>
      decide(id, async (g, now) => {
        if (g.status === 'pending')
          throw conflict(`break-glass grant ${id} is still pending: approve or decline it first`);
        if (g.reviewedBy !== null) throw conflict(`break-glass grant ${id} was already reviewed by ${g.reviewedBy}`);
        const out = await update(id, { reviewedBy: actor, reviewedAt: now });
        await deps.audit.record({
          type: 'break_glass.reviewed',
          actor,
          serial: g.serial,
          at: now,
          data: grantData(out, { comment: comment ?? null }),
        });
        return out;
      }),
    cancel: (id, user) =>
      decide(id, async (g, now) => {
        if (g.user !== user) throw notFound(`break-glass grant ${id}`);
        if (g.status !== 'pending') throw conflict(`break-glass grant ${id} is ${g.status}, not pending`);
        const out = await update(id, { status: 'revoked', revokedBy: user });
        await deps.audit.record({
          type: 'break_glass.cancelled',
          actor: user,
          serial: g.serial,
          at: now,
          data: grantData(out),
        });
        return out;
      }),
    get: (id) => deps.repo.get(id),
    list: (filter) => deps.repo.list(filter),
    async frequent(opts = {}) {
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
    },
    async eligibility(serial, user, resource) {
      const policy = deps.policy();
      const res = policy.resources[resource];
      if (!res) return undefined;
      const now = deps.clock.now();
      const windowMs = policy.breakGlass.limit.windowMs;
      // Far enough back for the window, and for a grant approved late in its pending time that is still running.
      const mine = await deps.repo.list({
        user,
        since: now - Math.max(windowMs, pendingTtl + policy.breakGlass.maxDurationMs),
      });
      const inWindow = mine.filter((g) => g.createdAt > now - windowMs);
      const forHere = mine.filter((g) => g.serial === serial && g.tier === res.tier);
      const active = forHere.find((g) => g.status === 'active' && (g.expiresAt ?? 0) > now);
      const pending = forHere.find((g) => g.status === 'pending' && !pendingExpired(g, now));
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
    },
    noteUse(grantId, info = {}) {
      const n = used.get(grantId) ?? 0;
      used.set(grantId, n + 1);
      if (n > 0) return;
      void deps.repo
        .get(grantId)
        .then((g) =>
          deps.audit.tryRecord({
            type: 'break_glass.used',
            actor: g?.user ?? 'unknown',
            serial: g?.serial ?? info.serial ?? null,
            data: { id: grantId, resource: info.resource ?? g?.resource ?? null },
          }),
        )
        .catch((e: unknown) =>
          deps.log.error(
            { event: 'break_glass.use_audit_failed', err: errorMessage(e) },
            'could not audit break-glass use',
          ),
        );
    },
    uses: (grantId) => used.get(grantId) ?? 0,
    sweep,
    async load() {
      await sweep();
      for (const g of await deps.repo.list({ status: 'active' })) deps.grants.add(g);
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        sweep().catch((e: unknown) =>
          deps.log.error({ event: 'break_glass.sweep_failed', err: errorMessage(e) }, 'break-glass sweep failed'),
        );
      }, deps.sweepEveryMs ?? 5000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
