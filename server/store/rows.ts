/** Row ↔ domain mapping helpers shared by the repositories (rows never leave server/store). */
import type { EnrollState, Host, HostDetails, Platform } from '../domain/types.js';
import { certOf, pendingReasonOf } from './host-select.js';
import type * as schema from './schema.js';

/** A hosts row with its last-seen time (kept in host_seen). */
export type HostRow = typeof schema.hosts.$inferSelect & { lastSeenAt: number };

export function toHost(r: HostRow): Host {
  return {
    id: r.id,
    serial: r.serial,
    hardwareUuid: r.hardwareUuid,
    hostIdentifier: r.hostIdentifier,
    hostname: r.hostname,
    platform: r.platform as Platform,
    osPlatform: r.osPlatform,
    osName: r.osName,
    osVersion: r.osVersion,
    osqueryVersion: r.osqueryVersion,
    hardwareVendor: r.hardwareVendor,
    hardwareModel: r.hardwareModel,
    enrolledAt: r.enrolledAt,
    lastSeenAt: r.lastSeenAt,
    serialConflict: r.serialConflict === 1 || (r.enrollState === 'pending' && r.pendingReason === 'serial_conflict'),
    enrollSecretName: r.enrollSecretName,
    enrollState: r.enrollState as EnrollState,
    pendingReason: pendingReasonOf(r.enrollState, r.pendingReason),
    cert: certOf(r.certSha256, r.certSha1, r.certSerial, r.certNotAfter),
  };
}

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export const parseDetails = (text: string): HostDetails => parseJson<HostDetails>(text, {});
