/**
 * The reference decision (server/posture/verdict.ts's precedence) computed from full check states, the
 * obvious way: the engine's precomputed records must give the same verdict (verdict.property.test.ts,
 * load-hosts.test.ts). Built from the same exported builders, so only the bookkeeping differs.
 */
import type { BreakGlassGrant, CheckDef, CheckState, Resource, Tier } from '../../server/domain/types.js';
import type { Verdict, VerdictReason } from '../../server/domain/verdict.js';
import {
  assembleVerdict,
  deviceReason,
  findGrant,
  missingReason,
  sortReasons,
  staleReason,
  stateReason,
  type AppliesFn,
  type DeviceInfo,
} from '../../server/posture/verdict.js';

export interface ComputeVerdictInput {
  serial: string;
  user: string | null;
  resource: Resource;
  /** The resource's tier; undefined when the policy does not define it (→ deny, `missing`). */
  tier: Tier | undefined;
  /** Every device reporting this serial (0: unknown device; more than 1: serial conflict). */
  devices: readonly DeviceInfo[];
  /** The device's check states by check id. */
  states: ReadonlyMap<string, CheckState>;
  /** Loaded check definitions by id. */
  checks: ReadonlyMap<string, CheckDef>;
  applies: AppliesFn;
  grants?: readonly BreakGlassGrant[];
  now: number;
}

/** The most recently seen of the devices reporting a serial (ties: the first). */
function latestDevice<T extends { lastSeenAt: number }>(devices: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const d of devices) if (!best || d.lastSeenAt > best.lastSeenAt) best = d;
  return best;
}

export function computeVerdict(i: ComputeVerdictInput): Verdict {
  const tierName = i.resource.tier;
  const device = latestDevice(i.devices);
  const base = { serial: i.serial, user: i.user, resource: i.resource, tier: tierName, now: i.now };
  if (!device) {
    return assembleVerdict({
      ...base,
      device: undefined,
      reasons: [deviceReason('unknown_device')],
      oldestObservedAt: NaN,
      grant: findGrant(i.grants, i.serial, i.user, tierName, i.now),
    });
  }
  if (i.devices.length > 1 || device.serialConflict) {
    return assembleVerdict({
      ...base,
      device,
      reasons: [deviceReason('serial_conflict')],
      oldestObservedAt: NaN,
      grant: undefined,
    });
  }
  const reasons: VerdictReason[] = [];
  let oldest = Infinity;
  const maxAgeMs = i.tier?.maxAgeMs ?? 0;
  if (!i.tier) reasons.push(missingReason(tierName));
  for (const id of i.tier?.checks ?? []) {
    const def = i.checks.get(id);
    if (!def) {
      reasons.push(missingReason(id));
      continue;
    }
    if (!i.applies(def, device)) continue;
    const state = i.states.get(id);
    const observedAt = state?.observedAt ?? null;
    if (observedAt !== null) oldest = Math.min(oldest, observedAt);
    const r = stateReason(def, state);
    if (r) reasons.push(r);
    else if (observedAt !== null && i.now - observedAt > maxAgeMs) reasons.push(staleReason(def, observedAt, maxAgeMs));
  }
  return assembleVerdict({
    ...base,
    device,
    reasons: sortReasons(reasons),
    oldestObservedAt: oldest,
    grant: findGrant(i.grants, i.serial, i.user, tierName, i.now),
  });
}
