/**
 * The verdict lookup, the product's hot path: a map lookup of the serial, the tier record, one
 * freshness comparison (the stale checks are named only when it says stale, and kept on the record
 * while the same checks are stale: host-record.ts), the break-glass overlay, the pairing of the person
 * with the device (tiers with `require_device_user`: one synchronous lookup in the device's people), then
 * the SPEC §4 verdict. Allocates nothing but the verdict it returns (and the first time a reasons array
 * is denied by the pairing, that deny's reasons; the first lookup that finds a tier stale, its named
 * reasons). `remediation_page` is null here: the gateway adds the signed link (it holds the key).
 * `last_seen_at` comes from the LastSeen registry when there is one (the record's own time is the
 * enrollment's or the last result's).
 */
import type { DevicePeopleLookup, LastSeen } from '../domain/ports.js';
import type { VerdictLookup, VerdictReason } from '../domain/verdict.js';
import type { State } from './fleet.js';
import type { GrantIndex } from './grants.js';
import { latestRec, tierReasonsAt, type HostRec } from './host-record.js';
import {
  assembleVerdict,
  deviceReason,
  NO_DEVICE_PEOPLE_REASON,
  NO_PERSON_REASON,
  type DeviceInfo,
} from './verdict.js';

const UNKNOWN_DEVICE: readonly VerdictReason[] = Object.freeze([deviceReason('unknown_device')]);
const SERIAL_CONFLICT: readonly VerdictReason[] = Object.freeze([deviceReason('serial_conflict')]);
const PENDING: readonly VerdictReason[] = Object.freeze([deviceReason('pending_enrollment')]);
const MISMATCH = deviceReason('device_user_mismatch');

/**
 * Each reasons array with a pairing reason placed first, per reason: made once and frozen, so every
 * pairing deny of a device in one state shares one array and its verdict JSON is made once
 * (gateway/verdict-json.ts keeps it per array), as for any other deny. Reasons arrays are never written
 * in place (host-record.ts), so an entry stays right for as long as its key lives.
 */
const PAIRED = new WeakMap<readonly VerdictReason[], Map<VerdictReason, readonly VerdictReason[]>>();

function pairedReasons(why: VerdictReason, reasons: readonly VerdictReason[]): readonly VerdictReason[] {
  let byWhy = PAIRED.get(reasons);
  if (!byWhy) PAIRED.set(reasons, (byWhy = new Map()));
  let out = byWhy.get(why);
  if (!out) byWhy.set(why, (out = Object.freeze([why, ...reasons])));
  return out;
}

/**
 * `require_device_user`: the pairing reason when `person` is not one of the device's people (none on the
 * request, none known for the device: deny by default), placed first; else the reasons as they are.
 */
function withPairing(
  people: DevicePeopleLookup | undefined,
  serial: string,
  person: string | null,
  reasons: readonly VerdictReason[],
): readonly VerdictReason[] {
  const match = person === null ? 'no' : people ? people.match(serial, person) : 'none';
  if (match === 'yes') return reasons;
  const why = person === null ? NO_PERSON_REASON : match === 'none' ? NO_DEVICE_PEOPLE_REASON : MISMATCH;
  return pairedReasons(why, reasons);
}

export function lookupVerdict(
  s: State,
  grants: GrantIndex,
  lastSeen: Pick<LastSeen, 'get'> | undefined,
  people: DevicePeopleLookup | undefined,
  serial: string,
  resourceName: string,
  user: string | null,
  now: number,
): VerdictLookup {
  const m = s.model;
  const res = m.resources.get(resourceName);
  if (!res) return { kind: 'unknown_resource', resource: resourceName };
  const recs = s.bySerial.get(serial);
  let device: DeviceInfo | undefined;
  let deviceId = -1;
  let reasons: readonly VerdictReason[];
  let oldest = Infinity;
  let grantable = true;
  if (!recs || recs.length === 0) {
    device = undefined;
    // only on this (unknown device) path: hosts held for an admin never reach the serial index
    reasons = s.pendingSerials.has(serial) ? PENDING : UNKNOWN_DEVICE;
    grantable = reasons === UNKNOWN_DEVICE;
  } else if (recs.length > 1 || recs[0]?.info.serialConflict) {
    const rec = latestRec(recs);
    device = rec?.info;
    deviceId = rec?.id ?? -1;
    reasons = SERIAL_CONFLICT;
    oldest = NaN;
    grantable = false;
  } else {
    const rec = recs[0] as HostRec;
    device = rec.info;
    deviceId = rec.id;
    reasons = res.missingTier;
    const atNow = tierReasonsAt(m, rec, res.tierIdx, now, s.staleKept);
    if (atNow) {
      reasons = atNow;
      oldest = rec.tierOldest[res.tierIdx] ?? Infinity;
    }
    if (m.tiers[res.tierIdx]?.requireDeviceUser) reasons = withPairing(people, serial, user, reasons);
  }
  if (!recs || recs.length === 0) oldest = NaN;
  const grant = grantable && reasons.length > 0 && user !== null ? grants.find(serial, user, res.tier, now) : undefined;
  return {
    kind: 'verdict',
    verdict: assembleVerdict({
      serial,
      user,
      resource: res,
      tier: res.tier,
      device,
      lastSeenAt: deviceId >= 0 ? lastSeen?.get(deviceId) : undefined,
      reasons,
      oldestObservedAt: oldest,
      grant,
      now,
    }),
  };
}
