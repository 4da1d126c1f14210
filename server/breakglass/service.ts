/**
 * Break glass (SPEC §6): request, approve, decline, cancel, revoke, review, expire. Every event is
 * audited; requests and decisions notify the optional webhook in the background; active grants are pushed
 * to the posture engine's overlay (injected) so verdicts allow with `break_glass`. This file owns the
 * service's interface and assembles it: the shared mechanics (core.ts), a request (request.ts), the
 * decisions (decisions.ts), the reports (reports.ts); it counts uses and runs the expiry sweep.
 */
import type { AuditRecorder, BreakGlassRepo } from '../domain/ports.js';
import type { BreakGlassGrant, GrantStatus, Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomId } from '../shared/crypto.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { createGrantCore } from './core.js';
import { approve, cancel, deny, review, revoke } from './decisions.js';
import type { LimitUsage } from './policy.js';
import { eligibility, frequentUsers } from './reports.js';
import { requestGrant, type RequestState } from './request.js';
import type { WebhookNotifier } from './webhook.js';

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
  const core = createGrantCore(deps);
  const requests: RequestState = { idempotent: new Map(), newId: deps.newId ?? (() => `bg_${randomId(9)}`) };
  const used = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  /** Runs a decision on the grant as it is now, inside the exclusive section. */
  const decide = (id: string, fn: (g: BreakGlassGrant, now: number) => Promise<BreakGlassGrant>) =>
    core.exclusive(async () => fn(await core.mustGet(id), deps.clock.now()));

  return {
    request: (input) => requestGrant(core, requests, input),
    approve: (id, actor, comment) => decide(id, (g, now) => approve(core, g, now, actor, comment)),
    deny: (id, actor, comment) => decide(id, (g, now) => deny(core, g, now, actor, comment)),
    revoke: (id, actor, comment) => decide(id, (g, now) => revoke(core, g, now, actor, comment)),
    review: (id, actor, comment) => decide(id, (g, now) => review(core, g, now, actor, comment)),
    cancel: (id, user) => decide(id, (g, now) => cancel(core, g, now, user)),
    get: (id) => deps.repo.get(id),
    list: (filter) => deps.repo.list(filter),
    frequent: (opts = {}) => frequentUsers(deps, opts),
    eligibility: (serial, user, resource) => eligibility(core, serial, user, resource),
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
    sweep: () => core.sweep(),
    async load() {
      await core.sweep();
      for (const g of await deps.repo.list({ status: 'active' })) deps.grants.add(g);
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        core
          .sweep()
          .catch((e: unknown) =>
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
