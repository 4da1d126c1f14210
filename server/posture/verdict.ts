/**
 * The access decision for one (device, resource, user) at `now` (SPEC §3, §4). Pure: no I/O, no clock.
 *
 * Precedence, first match wins:
 * 1. the serial is reported by two different machines → `serial_conflict` (break glass does not
 *    override it: the grant names a serial two machines claim);
 * 2. the device was never seen → `unknown_device`, or only a record held for an admin's approval was
 *    (not in the inventory, or hardware that conflicts) → `pending_enrollment` (break glass does not override
 *    it either);
 * 3. every required check of the resource's tier that applies to the device's platform is examined:
 *    `fail`, `error`, `unknown` (no result yet) and `missing` (no loaded pack defines the check) are
 *    reasons as they stand; a `pass` whose result is older than the tier's `max_age` is `stale`.
 *    Any reason ⇒ the posture denies. Reasons are ordered fail, error, stale, unknown, missing (fail
 *    beats unknown beats pass), then in the tier's order. A check that does not apply to the device's
 *    platform is skipped: it never blocks.
 * 4. the tier has `require_device_user: true` and the person on the request is not one of the device's
 *    people (or the request names no person, or the device has no known people: deny by default) →
 *    `device_user_mismatch` first, then the posture reasons (break glass does not override it; monitor
 *    mode does, as for any reason).
 * Then, if the posture denies (`would_deny`): an active break-glass grant for this serial + user
 * covering the tier turns it into `allow` with `break_glass` set (also for a device never seen: the
 * grant is an explicit, audited human decision naming that serial; refusing grants for unknown serials
 * is the granting side's call); otherwise monitor mode allows, and enforce mode denies. The reasons
 * are always reported, and `would_deny` stays true under monitor mode and break glass.
 *
 * The engine computes the verdict from its precomputed records with the builders exported here;
 * test/posture/reference-verdict.ts computes it from full check states with the same builders, and a
 * property test holds the two equal. `remediation_page` is always null here: the signed link is added
 * by the gateway's view of the engine (people/verdict-links.ts), which holds the signing key.
 */
import type {
  BreakGlassGrant,
  CheckDef,
  CheckState,
  DeviceReason,
  Host,
  Platform,
  ReasonStatus,
  Resource,
} from '../domain/types.js';
import type { BreakGlassRef, Verdict, VerdictDevice, VerdictReason } from '../domain/verdict.js';
import { isoTime, isoTimeFlat } from './iso-time.js';
import { formatDuration } from '../shared/duration.js';

/** Platform matching of a check against a device (osquery semantics; implemented in server/packs/platform.ts). */
export type AppliesFn = (check: CheckDef, host: Pick<Host, 'platform' | 'osPlatform'>) => boolean;

/** The device facts a verdict shows. */
export interface DeviceInfo {
  serial: string;
  hostname: string;
  platform: Platform;
  osPlatform: string;
  lastSeenAt: number;
  serialConflict: boolean;
}

const RANK: Record<VerdictReason['status'], number> = {
  pending_enrollment: -2,
  serial_conflict: -2,
  unknown_device_certificate: -1,
  unknown_device: -1,
  device_user_mismatch: -1,
  fail: 0,
  error: 1,
  stale: 2,
  unknown: 3,
  missing: 4,
};

export const reasonRank = (r: VerdictReason): number => RANK[r.status];

/**
 * Sorts in place by rank (fail, error, stale, unknown, missing) and returns the array; ties keep their
 * order (the tier's). Insertion sort: the lists are a handful of reasons, and it allocates nothing.
 */
export function sortReasons(reasons: VerdictReason[]): VerdictReason[] {
  for (let i = 1; i < reasons.length; i++) {
    const r = reasons[i] as VerdictReason;
    const rank = reasonRank(r);
    let j = i - 1;
    while (j >= 0 && reasonRank(reasons[j] as VerdictReason) > rank) {
      reasons[j + 1] = reasons[j] as VerdictReason;
      j--;
    }
    reasons[j + 1] = r;
  }
  return reasons;
}

export const UNKNOWN_MESSAGE = 'No result for this check has been received from this device yet.';

/** The reason a check state gives, or undefined when it passes. */
export function stateReason(
  def: CheckDef,
  state: Pick<CheckState, 'status' | 'message' | 'observedAt' | 'error'> | undefined,
): VerdictReason | undefined {
  const status: ReasonStatus = state?.status ?? 'unknown';
  if (status === 'pass') return undefined;
  const observedAt = state?.observedAt ?? null;
  let message: string;
  if (status === 'fail') message = state?.message ?? def.message;
  else if (status === 'error') {
    message = `This check could not be evaluated on this device: ${state?.error ?? 'unknown error'}`;
  } else message = UNKNOWN_MESSAGE;
  return Object.freeze({
    check: def.id,
    status: status as VerdictReason['status'],
    title: def.title,
    message,
    remediation_url: def.remediationUrl ?? null,
    observed_at: observedAt === null ? null : isoTimeFlat(observedAt),
  });
}

export function staleReason(def: CheckDef, observedAt: number, maxAgeMs: number): VerdictReason {
  const at = isoTime(observedAt);
  return {
    check: def.id,
    status: 'stale',
    title: def.title,
    message:
      `The latest result for this check (from ${at}) is older than this resource allows ` +
      `(${formatDuration(maxAgeMs)}).`,
    remediation_url: def.remediationUrl ?? null,
    observed_at: at,
  };
}

export function missingReason(checkId: string): VerdictReason {
  return Object.freeze({
    check: checkId,
    status: 'missing',
    title: checkId,
    message: 'The policy requires this check, but no loaded pack defines it.',
    remediation_url: null,
    observed_at: null,
  });
}

const DEVICE_REASONS: Record<DeviceReason, VerdictReason> = {
  unknown_device: Object.freeze({
    check: 'unknown_device',
    status: 'unknown_device',
    title: 'Unknown device',
    message: 'This device has never reported to Trustgate. Install and enroll the osquery agent, then try again.',
    remediation_url: null,
    observed_at: null,
  }),
  serial_conflict: Object.freeze({
    check: 'serial_conflict',
    status: 'serial_conflict',
    title: 'Serial number conflict',
    message: 'More than one machine reports this serial number. Access is blocked until an administrator resolves it.',
    remediation_url: null,
    observed_at: null,
  }),
  unknown_device_certificate: Object.freeze({
    check: 'unknown_device_certificate',
    status: 'unknown_device_certificate',
    title: 'Unknown device certificate',
    message:
      'The certificate this browser presented belongs to no device Trustgate knows. Use the certificate your ' +
      'device was issued, or ask IT to issue one.',
    remediation_url: null,
    observed_at: null,
  }),
  pending_enrollment: Object.freeze({
    check: 'pending_enrollment',
    status: 'pending_enrollment',
    title: 'Device awaiting approval',
    message:
      'This device enrolled but an administrator has not approved it yet (it is not in the device inventory, ' +
      'or its hardware does not match the inventory or the device already enrolled with this serial).',
    remediation_url: null,
    observed_at: null,
  }),
  device_user_mismatch: Object.freeze({
    check: 'device_user_mismatch',
    status: 'device_user_mismatch',
    title: 'Not your device',
    message:
      'This resource needs you to use a device you are registered on, and you are not one of the people ' +
      'registered on this one. Use your own device, or ask IT to register you on this device.',
    remediation_url: null,
    observed_at: null,
  }),
};

/** `device_user_mismatch` for a device with no known people at all (deny by default). */
export const NO_DEVICE_PEOPLE_REASON: VerdictReason = Object.freeze({
  ...DEVICE_REASONS.device_user_mismatch,
  message:
    'This resource needs you to use a device you are registered on, and no person is registered on this ' +
    'device yet. Ask IT to register you on it (device inventory owner or account mapping).',
});

/** `device_user_mismatch` for a request that names no person (no SSO identity reached Trustgate). */
export const NO_PERSON_REASON: VerdictReason = Object.freeze({
  ...DEVICE_REASONS.device_user_mismatch,
  message:
    'This resource needs to know who you are: open it through your company sign-in, so the request ' +
    'carries your identity.',
});

export const deviceReason = (r: DeviceReason): VerdictReason => DEVICE_REASONS[r];

/** An active grant for this serial + user that covers `tier` at `now` (status active, activated, not expired). */
export function findGrant(
  grants: readonly BreakGlassGrant[] | undefined,
  serial: string,
  user: string | null,
  tier: string,
  now: number,
): BreakGlassGrant | undefined {
  if (!grants || user === null) return undefined;
  for (const g of grants) {
    if (
      g.status === 'active' &&
      g.serial === serial &&
      g.user === user &&
      g.tier === tier &&
      g.expiresAt !== null &&
      now < g.expiresAt &&
      (g.activatedAt ?? g.createdAt) <= now
    )
      return g;
  }
  return undefined;
}

export interface AssembleInput {
  serial: string;
  user: string | null;
  resource: Pick<Resource, 'name' | 'mode'>;
  tier: string;
  device: DeviceInfo | undefined;
  /** When the device was last seen (the LastSeen registry's time); default `device.lastSeenAt`. */
  lastSeenAt?: number | undefined;
  /** Reasons in final order; empty ⇒ the posture allows. */
  reasons: readonly VerdictReason[];
  /** Oldest result time among the tier's required applicable checks (NaN / Infinity when none). */
  oldestObservedAt: number;
  grant: BreakGlassGrant | undefined;
  now: number;
}

/** Turns posture reasons into the SPEC §4 verdict (monitor mode, break glass, device, ages). */
export function assembleVerdict(i: AssembleInput): Verdict {
  const wouldDeny = i.reasons.length > 0;
  const first = i.reasons[0]?.status;
  // a grant names a serial: it does not override a serial two machines claim, or a device not yet approved;
  // nor lets a person use a device they are not registered on (a grant is self-service: it would undo the pairing)
  const hardDeny =
    wouldDeny && (first === 'serial_conflict' || first === 'pending_enrollment' || first === 'device_user_mismatch');
  const grant = wouldDeny && !hardDeny ? i.grant : undefined;
  const breakGlass: BreakGlassRef | null = grant
    ? { id: grant.id, expires_at: isoTime(grant.expiresAt ?? i.now), reason: grant.reason }
    : null;
  const enforced = i.resource.mode === 'enforce';
  const decision = !wouldDeny || breakGlass || !enforced ? 'allow' : 'deny';
  const device: VerdictDevice | null = i.device
    ? {
        hostname: i.device.hostname,
        platform: i.device.platform,
        last_seen_at: isoTime(i.lastSeenAt ?? i.device.lastSeenAt),
      }
    : null;
  const oldest = i.oldestObservedAt;
  return {
    decision,
    enforced,
    would_deny: wouldDeny,
    resource: i.resource.name,
    tier: i.tier,
    serial: i.serial,
    user: i.user,
    reasons: i.reasons,
    break_glass: breakGlass,
    device,
    remediation_page: null,
    evaluated_at: isoTime(i.now),
    data_age_seconds: Number.isFinite(oldest) ? Math.max(0, Math.floor((i.now - oldest) / 1000)) : null,
  };
}
