/**
 * Device certificates (issued by Trustgate's device CA, or external ones revoked by fingerprint) and the
 * enrollment rejections an admin made, in SQLite.
 */
import type Database from 'better-sqlite3';
import type { DeviceCertRepo, EnrollRejectionRepo } from '../domain/ports.js';
import type { DeviceCertRecord, EnrollRejection } from '../domain/types.js';

interface RawCert {
  sha256: string;
  sha1: string | null;
  cert_serial: string | null;
  device_serial: string | null;
  not_before: number | null;
  not_after: number | null;
  issued_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

const toCert = (r: RawCert): DeviceCertRecord => ({
  sha256: r.sha256,
  sha1: r.sha1,
  certSerial: r.cert_serial,
  deviceSerial: r.device_serial,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuedAt: r.issued_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  revokeReason: r.revoke_reason,
});

const SELECT = `SELECT sha256, sha1, cert_serial, device_serial, not_before, not_after, issued_at, revoked_at,
  revoked_by, revoke_reason FROM device_certs`;

export function createDeviceCertRepo(sqlite: Database.Database): DeviceCertRepo {
  const insert = sqlite.prepare(
    `INSERT INTO device_certs (sha256, sha1, cert_serial, device_serial, not_before, not_after, issued_at,
       revoked_at, revoked_by, revoke_reason)
     VALUES (@sha256, @sha1, @certSerial, @deviceSerial, @notBefore, @notAfter, @issuedAt, @revokedAt, @revokedBy,
       @revokeReason)
     ON CONFLICT (sha256) DO NOTHING`,
  );
  const bySha = sqlite.prepare<[string], RawCert>(`${SELECT} WHERE sha256 = ?`);
  const revokeSha = sqlite.prepare<[number, string, string, string], RawCert>(
    `UPDATE device_certs SET revoked_at = ?, revoked_by = ?, revoke_reason = ?
     WHERE sha256 = ? AND revoked_at IS NULL RETURNING *`,
  );
  const revokeDevice = sqlite.prepare<[number, string, string, string], RawCert>(
    `UPDATE device_certs SET revoked_at = ?, revoked_by = ?, revoke_reason = ?
     WHERE device_serial = ? AND revoked_at IS NULL RETURNING *`,
  );
  const revoked = sqlite.prepare<[], RawCert>(`${SELECT} WHERE revoked_at IS NOT NULL ORDER BY revoked_at`);

  const revokeTx = sqlite.transaction(
    (which: { sha256: string } | { deviceSerial: string }, by: { actor: string; reason: string; at: number }) => {
      if ('deviceSerial' in which) return revokeDevice.all(by.at, by.actor, by.reason, which.deviceSerial);
      if (!bySha.get(which.sha256)) {
        // an external certificate (not issued here) is recorded by its fingerprint so that Trustgate refuses
        // it; the CRL lists only the certificates of its own CA (by serial), so it skips this one
        insert.run({
          sha256: which.sha256,
          sha1: null,
          certSerial: null,
          deviceSerial: null,
          notBefore: null,
          notAfter: null,
          issuedAt: null,
          revokedAt: null,
          revokedBy: null,
          revokeReason: null,
        });
      }
      return revokeSha.all(by.at, by.actor, by.reason, which.sha256);
    },
  );

  return {
    async recordIssued(rec) {
      insert.run(rec);
    },
    async revoke(which, by) {
      return revokeTx.immediate(which, by).map(toCert);
    },
    async list(filter = {}) {
      const conds: string[] = [];
      const params: string[] = [];
      if (filter.deviceSerial !== undefined) {
        conds.push('device_serial = ?');
        params.push(filter.deviceSerial);
      }
      if (filter.revoked !== undefined) conds.push(filter.revoked ? 'revoked_at IS NOT NULL' : 'revoked_at IS NULL');
      const where = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
      return sqlite
        .prepare<string[], RawCert>(`${SELECT}${where} ORDER BY coalesce(issued_at, revoked_at)`)
        .all(...params)
        .map(toCert);
    },
    async revoked() {
      return revoked.all().map(toCert);
    },
  };
}

export function createEnrollRejectionRepo(sqlite: Database.Database): EnrollRejectionRepo {
  const add = sqlite.prepare<[string, string, number, string]>(
    `INSERT INTO enroll_rejections (serial, hardware_uuid, rejected_at, rejected_by) VALUES (?, ?, ?, ?)
     ON CONFLICT (serial, hardware_uuid) DO UPDATE SET rejected_at = excluded.rejected_at,
       rejected_by = excluded.rejected_by`,
  );
  const has = sqlite.prepare<[string, string], { one: number }>(
    'SELECT 1 AS one FROM enroll_rejections WHERE serial = ? AND hardware_uuid = ?',
  );
  const list = sqlite.prepare<[], EnrollRejection>(
    `SELECT serial, hardware_uuid AS hardwareUuid, rejected_at AS rejectedAt, rejected_by AS rejectedBy
     FROM enroll_rejections ORDER BY rejected_at`,
  );
  const clearAll = sqlite.prepare<[string]>('DELETE FROM enroll_rejections WHERE serial = ?');
  const clearOne = sqlite.prepare<[string, string]>(
    'DELETE FROM enroll_rejections WHERE serial = ? AND hardware_uuid = ?',
  );
  return {
    async add(r) {
      add.run(r.serial, r.hardwareUuid.toLowerCase(), r.rejectedAt, r.rejectedBy);
    },
    async has(serial, hardwareUuid) {
      return has.get(serial, hardwareUuid.toLowerCase()) !== undefined;
    },
    async list() {
      return list.all();
    },
    async clear(serial, hardwareUuid) {
      const r = hardwareUuid === undefined ? clearAll.run(serial) : clearOne.run(serial, hardwareUuid.toLowerCase());
      return r.changes;
    },
  };
}
