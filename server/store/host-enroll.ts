/**
 * Enrollment, one immediate transaction: the device of the same serial and hardware UUID is re-enrolled
 * (its record reused, its previous node key hash handed back for revocation); another device is a new host.
 * The store keeps one invariant itself, atomically: a serial has at most one active host. An `active`
 * enrollment of a serial that another device's active record holds is stored `pending` with reason
 * `serial_conflict`: the established device keeps its record and its verdict until an admin decides. A node
 * key hash another host holds is refused with a conflict (the transaction rolls back).
 */
import { and, eq, ne } from 'drizzle-orm';
import type { EnrollOutcome, EnrollRecord } from '../domain/ports.js';
import type { EnrollState, PendingReason } from '../domain/types.js';
import { translated } from './errors.js';
import type { Db } from './open.js';
import { toHost } from './rows.js';
import { hosts } from './schema.js';

/** The columns an enrollment (re)writes, whether the host is new or not. */
const enrolledFields = (rec: EnrollRecord) => ({
  hostIdentifier: rec.hostIdentifier,
  hostname: rec.hostname,
  platform: rec.platform,
  osPlatform: rec.osPlatform,
  osName: rec.osName,
  osVersion: rec.osVersion,
  osqueryVersion: rec.osqueryVersion,
  hardwareVendor: rec.hardwareVendor,
  hardwareModel: rec.hardwareModel,
  details: JSON.stringify(rec.details),
  nodeKeyHash: rec.nodeKeyHash,
  enrollSecretName: rec.enrollSecretName,
  ...(rec.cert
    ? {
        certSha256: rec.cert.sha256,
        certSha1: rec.cert.sha1,
        certSerial: rec.cert.serial,
        certNotAfter: rec.cert.notAfter,
      }
    : {}),
});

/** Returns `enroll(rec)`, which (re-)enrolls a device and sets its last-seen time to the enrollment's. */
export function createEnroll(db: Db): (rec: EnrollRecord) => EnrollOutcome {
  const sqlite = db.$client;
  const seenAt = sqlite.prepare(`INSERT INTO host_seen (host_id, last_seen_at) VALUES (?, ?)
    ON CONFLICT (host_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`);

  /** The active hosts of the serial other than this hardware (the established device, if any). */
  const activeOthers = (rec: EnrollRecord) =>
    db
      .select()
      .from(hosts)
      .where(
        and(eq(hosts.serial, rec.serial), ne(hosts.hardwareUuid, rec.hardwareUuid), eq(hosts.enrollState, 'active')),
      )
      .all();

  const enrollTx = sqlite.transaction((rec: EnrollRecord): EnrollOutcome => {
    const fields = enrolledFields(rec);
    const others = rec.state === 'active' ? activeOthers(rec) : [];
    const conflict = others.length > 0;
    const state: EnrollState = conflict ? 'pending' : rec.state;
    const pendingReason: PendingReason | null = conflict ? 'serial_conflict' : rec.pendingReason;
    const conflictWith = others.map((o) => toHost({ ...o, lastSeenAt: o.enrolledAt }));
    const existing = db
      .select()
      .from(hosts)
      .where(and(eq(hosts.serial, rec.serial), eq(hosts.hardwareUuid, rec.hardwareUuid)))
      .get();
    if (existing) {
      const row = db
        .update(hosts)
        .set({ ...fields, enrollState: state, pendingReason: state === 'pending' ? pendingReason : null })
        .where(eq(hosts.id, existing.id))
        .returning()
        .get();
      seenAt.run(row.id, rec.at);
      return {
        host: toHost({ ...row, lastSeenAt: rec.at }),
        reenrolled: true,
        revokedNodeKeyHash: existing.nodeKeyHash,
        conflictWith,
      };
    }
    const row = db
      .insert(hosts)
      .values({
        ...fields,
        serial: rec.serial,
        hardwareUuid: rec.hardwareUuid,
        serialConflict: 0,
        enrolledAt: rec.at,
        enrollState: state,
        pendingReason: state === 'pending' ? pendingReason : null,
      })
      .returning()
      .get();
    seenAt.run(row.id, rec.at);
    return { host: toHost({ ...row, lastSeenAt: rec.at }), reenrolled: false, revokedNodeKeyHash: null, conflictWith };
  });

  // the only unique key an enrollment can collide with is the node key hash: the device's own
  // (serial, hardware UUID) row is looked up first, inside the same immediate transaction
  return (rec) =>
    translated(() => enrollTx.immediate(rec), {
      unique: ['conflict', 'the node key is already in use by another host'],
    });
}
