/**
 * How hosts are read: the one SELECT every host read shares, its raw row → Host mapping, and the WHERE of
 * a filtered list (platform, a search over serial, hostname and hardware UUID matched literally).
 */
import type { HostFilter } from '../domain/ports.js';
import type { CertBinding, EnrollState, Host, PendingReason, Platform } from '../domain/types.js';
import { createInterner } from '../shared/intern.js';

/**
 * The columns of a Host, details JSON left out (read it with `details`), last-seen time from the narrow
 * `host_seen` table (written every second; see `touch`). Rows are read raw (arrays): the warm start reads
 * every host, and drizzle's per-row mapping of every column (details included) was most of that time.
 */
export const HOST_SELECT = `SELECT h.id, h.serial, h.hardware_uuid, h.host_identifier, h.hostname, h.platform,
  h.os_platform, h.os_name, h.os_version, h.osquery_version, h.hardware_vendor, h.hardware_model, h.enrolled_at,
  coalesce(s.last_seen_at, h.enrolled_at), h.serial_conflict, h.enroll_secret_name, h.enroll_state, h.pending_reason,
  h.cert_sha256, h.cert_sha1, h.cert_serial, h.cert_not_after
  FROM hosts h LEFT JOIN host_seen s ON s.host_id = h.id`;

export type RawHost = [
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  number | null,
];

/** A host's bound certificate from its columns (null unless every column is set). */
export function certOf(
  sha256: string | null,
  sha1: string | null,
  serial: string | null,
  notAfter: number | null,
): CertBinding | null {
  return sha256 !== null && sha1 !== null && serial !== null && notAfter !== null
    ? { sha256, sha1, serial, notAfter }
    : null;
}

/** A pending host's reason (null for an active one). */
export const pendingReasonOf = (state: string, reason: string | null): PendingReason | null =>
  state === 'pending' ? ((reason ?? 'unknown_serial') as PendingReason) : null;

/** The columns most hosts share a value of (platform, OS, versions, hardware, secret, state): one copy each. */
const shared = createInterner();

export const fromRaw = (r: RawHost): Host => ({
  id: r[0],
  serial: r[1],
  hardwareUuid: r[2],
  // osquery's default host identifier is the hardware UUID: the same text, kept once
  hostIdentifier: r[3] === r[2] ? r[2] : r[3],
  hostname: r[4],
  platform: shared(r[5]) as Platform,
  osPlatform: shared(r[6]),
  osName: shared(r[7]),
  osVersion: shared(r[8]),
  osqueryVersion: shared(r[9]),
  hardwareVendor: shared(r[10]),
  hardwareModel: shared(r[11]),
  enrolledAt: r[12],
  lastSeenAt: r[13],
  serialConflict: r[14] === 1 || (r[16] === 'pending' && r[17] === 'serial_conflict'),
  enrollSecretName: shared(r[15]),
  enrollState: shared(r[16]) as EnrollState,
  pendingReason: pendingReasonOf(r[16], r[17]),
  cert: certOf(r[18], r[19], r[20], r[21]),
});

/** The columns a search looks in, each matched with `LIKE ? ESCAPE '\'` (one parameter per column). */
const SEARCHED = ['h.serial', 'h.hostname', 'h.hardware_uuid'];
const SEARCH_COND = `(${SEARCHED.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`;

/** A LIKE pattern matching `text` anywhere, its `%`, `_` and the escape character `\` taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The WHERE clause (empty, or starting with a space) of a list filter, and its parameters. */
export function listWhere(filter: HostFilter): { where: string; params: Array<string | number> } {
  const conds: string[] = [];
  const params: Array<string | number> = [];
  if (filter.platform) {
    conds.push('h.platform = ?');
    params.push(filter.platform);
  }
  if (filter.search) {
    const pattern = containsPattern(filter.search);
    conds.push(SEARCH_COND);
    for (let i = 0; i < SEARCHED.length; i++) params.push(pattern);
  }
  return { where: conds.length ? ` WHERE ${conds.join(' AND ')}` : '', params };
}
