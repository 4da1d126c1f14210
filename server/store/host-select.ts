/**
 * How hosts are read: the one SELECT every host read shares, its raw row → Host mapping, and the WHERE of
 * a filtered list (platform, a search over serial, hostname and hardware UUID matched literally).
 */
import type { HostFilter } from '../domain/ports.js';
import type { Host, Platform } from '../domain/types.js';

/**
 * The columns of a Host, details JSON left out (read it with `details`), last-seen time from the narrow
 * `host_seen` table (written every second; see `touch`). Rows are read raw (arrays): the warm start reads
 * every host, and drizzle's per-row mapping of every column (details included) was most of that time.
 */
export const HOST_SELECT = `SELECT h.id, h.serial, h.hardware_uuid, h.host_identifier, h.hostname, h.platform,
  h.os_platform, h.os_name, h.os_version, h.osquery_version, h.hardware_vendor, h.hardware_model, h.enrolled_at,
  coalesce(s.last_seen_at, h.enrolled_at), h.serial_conflict, h.enroll_secret_name
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
];

export const fromRaw = (r: RawHost): Host => ({
  id: r[0],
  serial: r[1],
  hardwareUuid: r[2],
  hostIdentifier: r[3],
  hostname: r[4],
  platform: r[5] as Platform,
  osPlatform: r[6],
  osName: r[7],
  osVersion: r[8],
  osqueryVersion: r[9],
  hardwareVendor: r[10],
  hardwareModel: r[11],
  enrolledAt: r[12],
  lastSeenAt: r[13],
  serialConflict: r[14] === 1,
  enrollSecretName: r[15],
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
