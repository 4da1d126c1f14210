/**
 * A break-glass request, in order: a repeat of an earlier submit (same serial, user and idempotency key
 * within the hour) answers the grant it made; the input is checked (a user, a reason of 10 characters or
 * more, a positive duration); the policy decides (policy.ts; every refusal but an unknown resource is
 * audited); the device must be enrolled; then the grant is stored, audited, logged and notified, and is
 * active at once when its tier needs no approval (pushed to the posture engine's overlay).
 */
import type { BreakGlassGrant } from '../domain/types.js';
import { canonicalPerson } from '../domain/identity.js';
import { AppError, invalid, notFound } from '../shared/errors.js';
import { grantData, type GrantCore } from './core.js';
import { decideBreakGlass, type BreakGlassDecision } from './policy.js';
import type { BreakGlassRequestInput } from './service.js';

/** How long a submit's idempotency key is remembered. */
const IDEMPOTENCY_MS = 3_600_000;

export interface RequestState {
  /** Idempotency key (serial, user, key) → the grant it made and when. */
  idempotent: Map<string, { id: string; at: number }>;
  newId(): string;
}

type Granted = Extract<BreakGlassDecision, { ok: true }>;

const idempotencyKey = (input: BreakGlassRequestInput): string | undefined =>
  input.idempotencyKey ? `${input.serial}\u0000${input.user}\u0000${input.idempotencyKey}` : undefined;

/** The grant an earlier submit with this key made (forgetting keys older than an hour first). */
async function replayed(
  core: GrantCore,
  state: RequestState,
  key: string | undefined,
  now: number,
): Promise<BreakGlassGrant | undefined> {
  for (const [k, v] of state.idempotent) if (v.at < now - IDEMPOTENCY_MS) state.idempotent.delete(k);
  if (!key) return undefined;
  const prior = state.idempotent.get(key);
  return prior ? await core.deps.repo.get(prior.id) : undefined;
}

/** The trimmed reason, once the request names a user, gives a reason and a positive duration. */
function checkedReason(input: BreakGlassRequestInput): string {
  if (input.user.trim() === '')
    throw invalid(
      'Emergency access needs the user it is for; open the resource through your company sign-in ' +
        'to get a link that names you.',
    );
  const reason = input.reason.trim();
  if (reason.length < 10)
    throw invalid(
      'Please give a reason of at least 10 characters ' +
        '(for example: "Paging incident INC-123, need read access to logs").',
    );
  if (!Number.isInteger(input.durationMs) || input.durationMs <= 0) throw invalid('duration must be positive');
  return reason;
}

/** The policy's decision for this user now; a refusal is audited (unless the resource is unknown) and thrown. */
async function decided(core: GrantCore, input: BreakGlassRequestInput, reason: string, now: number): Promise<Granted> {
  const { deps } = core;
  const policy = deps.policy();
  const windowMs = policy.breakGlass.limit.windowMs;
  const userGrants = await deps.repo.list({ user: input.user, since: now - windowMs });
  const d = decideBreakGlass({ policy, resource: input.resource, durationMs: input.durationMs, userGrants, now });
  if (d.ok) return d;
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

function newGrant(id: string, input: BreakGlassRequestInput, reason: string, d: Granted, now: number): BreakGlassGrant {
  const active = d.approval === 'none';
  return {
    id,
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
}

export function requestGrant(
  core: GrantCore,
  state: RequestState,
  input: BreakGlassRequestInput,
): Promise<{ grant: BreakGlassGrant; created: boolean }> {
  const { deps } = core;
  const person = canonicalPerson(input.user);
  if (person === null && input.user.trim() !== '')
    return Promise.reject(
      invalid('Emergency access is for a person: the user must be the e-mail address your company sign-in sends.'),
    );
  // the limit, the grant, the audit entries and the webhook all count the one canonical person
  if (person !== null) {
    const requestedBy = input.requestedBy === input.user ? person : input.requestedBy;
    input = { ...input, user: person, requestedBy };
  }
  return core.exclusive(async () => {
    const now = deps.clock.now();
    const key = idempotencyKey(input);
    const prior = await replayed(core, state, key, now);
    if (prior) return { grant: prior, created: false };
    const reason = checkedReason(input);
    const d = await decided(core, input, reason, now);
    if (!(await deps.deviceKnown(input.serial))) throw notFound(`device ${input.serial}`);
    const grant = newGrant(state.newId(), input, reason, d, now);
    await deps.repo.insert(grant);
    await deps.audit.record({
      type: 'break_glass.requested',
      actor: input.requestedBy,
      serial: grant.serial,
      at: now,
      data: grantData(grant, { approval: d.approval }),
    });
    if (grant.status === 'active') deps.grants.add(grant);
    if (key) state.idempotent.set(key, { id: grant.id, at: now });
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
    core.notify('requested', grant, input.requestedBy);
    return { grant, created: true };
  });
}
