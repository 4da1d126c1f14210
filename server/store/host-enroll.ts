/**
 * Enrollment, one immediate transaction: the device of the same serial and hardware UUID is re-enrolled
 * (its record reused, its previous node key hash handed back for revocation); another device is a new host.
 * The store keeps one invariant itself, atomically: a serial has at most one active host. An `active`
 * enrollment of a serial that another device's active record holds is stored `pending` with reason
 * `serial_conflict`: the established device keeps its record and its verdict until an admin decides. A node
 * key hash another host holds is refused with a conflict (the transaction rolls back).
 *
 * Every statement is prepared once (a whole fleet enrolling at once runs this thousands of times a second)
 * and looks a serial up by its own index, never by the enrollment state that every active host shares.
 */
import type Database from 'better-sqlite3';
import type { EnrollOutcome, EnrollRecord } from '../domain/ports.js';
import type { EnrollState, PendingReason } from '../domain/types.js';
import { translated } from './errors.js';
import { fromRaw, HOST_SELECT, type RawHost } from './host-select.js';

/** The columns an enrollment (re)writes, whether the host is new or not (cert columns only when it has one). */
const enrolledFields = (rec: EnrollRecord, state: EnrollState, pendingReason: PendingReason | null) => ({
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
  state,
  pendingReason: state === 'pending' ? pendingReason : null,
  certSha256: rec.cert?.sha256 ?? null,
  certSha1: rec.cert?.sha1 ?? null,
  certSerial: rec.cert?.serial ?? null,
  certNotAfter: rec.cert?.notAfter ?? null,
});

/**
 * The active hosts of a serial other than this hardware (the established device, if any). `+h.enroll_state`
 * keeps the planner on the serial's index: on `hosts_enroll_state` it walked every active host, once per
 * enrollment (a fleet enrolling at once was quadratic; test/store/sqlite/plans.test.ts checks the plan).
 */
export const ACTIVE_OTHERS_SQL = `${HOST_SELECT}
  WHERE h.serial = ? AND h.hardware_uuid <> ? AND +h.enroll_state = 'active' ORDER BY h.id`;

/**
 * Returns `enroll(rec)`, which (re-)enrolls a device and sets its last-seen time to the enrollment's.
 * `byId`: the host repository's read of one host (raw rows), to hand back the host as stored.
 */
export function createEnroll(
  sqlite: Database.Database,
  byId: Database.Statement<[number], RawHost>,
): (rec: EnrollRecord) => EnrollOutcome {
  const seenAt = sqlite.prepare(`INSERT INTO host_seen (host_id, last_seen_at) VALUES (?, ?)
    ON CONFLICT (host_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`);
  const activeOthers = sqlite.prepare<[string, string], RawHost>(ACTIVE_OTHERS_SQL).raw(true);
  const sameDevice = sqlite.prepare<[string, string], { id: number; nodeKeyHash: string | null }>(
    'SELECT id, node_key_hash AS nodeKeyHash FROM hosts WHERE serial = ? AND hardware_uuid = ?',
  );
  const update = sqlite.prepare(
    `UPDATE hosts SET host_identifier = @hostIdentifier, hostname = @hostname, platform = @platform,
      os_platform = @osPlatform, os_name = @osName, os_version = @osVersion, osquery_version = @osqueryVersion,
      hardware_vendor = @hardwareVendor, hardware_model = @hardwareModel, details = @details,
      node_key_hash = @nodeKeyHash, enroll_secret_name = @enrollSecretName, enroll_state = @state,
      pending_reason = @pendingReason, cert_sha256 = coalesce(@certSha256, cert_sha256),
      cert_sha1 = coalesce(@certSha1, cert_sha1), cert_serial = coalesce(@certSerial, cert_serial),
      cert_not_after = coalesce(@certNotAfter, cert_not_after)
    WHERE id = @id`,
  );
  const insert = sqlite.prepare<[Record<string, unknown>], { id: number }>(
    `INSERT INTO hosts (serial, hardware_uuid, host_identifier, hostname, platform, os_platform, os_name,
      os_version, osquery_version, hardware_vendor, hardware_model, details, node_key_hash, enroll_secret_name,
      serial_conflict, enrolled_at, enroll_state, pending_reason, cert_sha256, cert_sha1, cert_serial,
      cert_not_after)
    VALUES (@serial, @hardwareUuid, @hostIdentifier, @hostname, @platform, @osPlatform, @osName, @osVersion,
      @osqueryVersion, @hardwareVendor, @hardwareModel, @details, @nodeKeyHash, @enrollSecretName, 0, @at,
      @state, @pendingReason, @certSha256, @certSha1, @certSerial, @certNotAfter)
    RETURNING id`,
  );
  const read = (id: number) => {
    const r = byId.get(id);
    if (!r) throw new Error(`host ${id} vanished inside its enrollment transaction`);
    return fromRaw(r);
  };

  const enrollTx = sqlite.transaction((rec: EnrollRecord): EnrollOutcome => {
    const others = rec.state === 'active' ? activeOthers.all(rec.serial, rec.hardwareUuid).map(fromRaw) : [];
    const conflict = others.length > 0;
    const state: EnrollState = conflict ? 'pending' : rec.state;
    const fields = enrolledFields(rec, state, conflict ? 'serial_conflict' : rec.pendingReason);
    const existing = sameDevice.get(rec.serial, rec.hardwareUuid);
    if (existing) {
      update.run({ ...fields, id: existing.id });
      seenAt.run(existing.id, rec.at);
      return {
        host: read(existing.id),
        reenrolled: true,
        revokedNodeKeyHash: existing.nodeKeyHash,
        conflictWith: others,
      };
    }
    const inserted = insert.get({ ...fields, serial: rec.serial, hardwareUuid: rec.hardwareUuid, at: rec.at });
    if (!inserted) throw new Error('the host insert returned no id');
    seenAt.run(inserted.id, rec.at);
    return { host: read(inserted.id), reenrolled: false, revokedNodeKeyHash: null, conflictWith: others };
  });

  // the only unique key an enrollment can collide with is the node key hash: the device's own
  // (serial, hardware UUID) row is looked up first, inside the same immediate transaction
  return (rec) =>
    translated(() => enrollTx.immediate(rec), {
      unique: ['conflict', 'the node key is already in use by another host'],
    });
}
