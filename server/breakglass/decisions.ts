/**
 * The decisions on a grant, each a status transition that is audited: approve (a pending request becomes
 * active, unless it expired first), deny (declined with the comment the person sees), revoke (an active
 * or pending grant ends now), review (an admin confirms a decided grant once), and cancel (the requester
 * withdraws a pending request). Approve and revoke update the posture engine's overlay; approve, deny and
 * revoke notify the webhook. Each runs on the grant as read inside the service's exclusive section.
 */
import type { BreakGlassGrant } from '../domain/types.js';
import { conflict, notFound } from '../shared/errors.js';
import type { AuditEventType } from '../domain/ports.js';
import { grantData, type GrantCore } from './core.js';

/** The audit entry of a decision: the grant as it is after it, with the decision's own fields. */
function recordDecision(
  core: GrantCore,
  type: AuditEventType,
  out: BreakGlassGrant,
  actor: string,
  now: number,
  extra?: Record<string, unknown>,
): Promise<unknown> {
  return core.deps.audit.record({ type, actor, serial: out.serial, at: now, data: grantData(out, extra) });
}

export async function approve(
  core: GrantCore,
  g: BreakGlassGrant,
  now: number,
  actor: string,
  comment: string | undefined,
): Promise<BreakGlassGrant> {
  if (core.pendingExpired(g, now)) {
    await core.expire(g, now);
    throw conflict(`break-glass grant ${g.id} expired before it was approved`);
  }
  if (g.status !== 'pending') throw conflict(`break-glass grant ${g.id} is ${g.status}, not pending`);
  const out = await core.update(g.id, {
    status: 'active',
    activatedAt: now,
    expiresAt: now + g.durationMs,
    approvedBy: actor,
    decisionComment: comment ?? null,
  });
  await recordDecision(core, 'break_glass.approved', out, actor, now, { comment: comment ?? null });
  core.deps.grants.add(out);
  core.notify('approved', out, actor, comment);
  return out;
}

export async function deny(
  core: GrantCore,
  g: BreakGlassGrant,
  now: number,
  actor: string,
  comment: string,
): Promise<BreakGlassGrant> {
  if (g.status !== 'pending') throw conflict(`break-glass grant ${g.id} is ${g.status}, not pending`);
  const out = await core.update(g.id, { status: 'denied', revokedBy: actor, decisionComment: comment });
  await recordDecision(core, 'break_glass.denied', out, actor, now, { comment });
  core.notify('denied', out, actor, comment);
  return out;
}

export async function revoke(
  core: GrantCore,
  g: BreakGlassGrant,
  now: number,
  actor: string,
  comment: string | undefined,
): Promise<BreakGlassGrant> {
  if (g.status !== 'active' && g.status !== 'pending')
    throw conflict(`break-glass grant ${g.id} is ${g.status}; only active or pending grants can be revoked`);
  const out = await core.update(g.id, {
    status: 'revoked',
    revokedBy: actor,
    ...(g.status === 'active' ? { expiresAt: Math.min(g.expiresAt ?? now, now) } : {}),
  });
  core.deps.grants.remove(g.id);
  await recordDecision(core, 'break_glass.revoked', out, actor, now, { comment: comment ?? null, was: g.status });
  core.notify('revoked', out, actor, comment);
  return out;
}

export async function review(
  core: GrantCore,
  g: BreakGlassGrant,
  now: number,
  actor: string,
  comment: string | undefined,
): Promise<BreakGlassGrant> {
  if (g.status === 'pending') throw conflict(`break-glass grant ${g.id} is still pending: approve or decline it first`);
  if (g.reviewedBy !== null) throw conflict(`break-glass grant ${g.id} was already reviewed by ${g.reviewedBy}`);
  const out = await core.update(g.id, { reviewedBy: actor, reviewedAt: now });
  await recordDecision(core, 'break_glass.reviewed', out, actor, now, { comment: comment ?? null });
  return out;
}

/** The requester withdraws a pending request (recorded as revoked by them); another user's is not found. */
export async function cancel(core: GrantCore, g: BreakGlassGrant, now: number, user: string): Promise<BreakGlassGrant> {
  if (g.user !== user) throw notFound(`break-glass grant ${g.id}`);
  if (g.status !== 'pending') throw conflict(`break-glass grant ${g.id} is ${g.status}, not pending`);
  const out = await core.update(g.id, { status: 'revoked', revokedBy: user });
  await recordDecision(core, 'break_glass.cancelled', out, user, now);
  return out;
}
