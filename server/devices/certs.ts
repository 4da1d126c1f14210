/**
 * Device certificates: issuance by Trustgate's device CA (PEM key + certificate for osquery's flags, and a
 * PKCS#12 for keychains and the Windows store, with a random password shown once), revocation by device
 * serial or fingerprint, the CRL for gateways (nginx `ssl_crl`), and the in-memory revocation set every
 * osquery request is checked against (a Set lookup). Revocation is decided here by fingerprint, never by
 * swapping a CRL into the TLS server: that would end TLS session resumption for the whole fleet at once.
 */
import type { AuditRecorder, DeviceCertRepo, HostRepo } from '../domain/ports.js';
import type { DeviceCertRecord } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomSecret } from '../shared/crypto.js';
import { invalid, notFound } from '../shared/errors.js';
import type { DeviceCa, IssuedCert } from './ca.js';

/** The CRL is valid this long; it is signed again when half of it has passed or the revoked set changed. */
export const CRL_VALID_MS = 30 * 86_400_000;
const MAX_DAYS = 3650;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface DeviceCertDeps {
  certs: DeviceCertRepo;
  hosts: Pick<HostRepo, 'findBySerial'>;
  /** The device CA, opened (Trustgate's own created) on first need. */
  ca(): Promise<DeviceCa>;
  uriPrefix: string;
  audit: Pick<AuditRecorder, 'record'>;
  clock: Clock;
}

export interface Issued {
  cert: IssuedCert;
  pkcs12: Buffer;
  pkcs12Password: string;
}

export interface IssueInput {
  serial: string;
  /** Validity in days (default 365). */
  days?: number;
  /** Default: a random one, returned once. */
  pkcs12Password?: string;
  /** false: no PKCS#12 (bulk issuance for osquery's PEM flags; it takes most of the time). */
  withPkcs12?: boolean;
}

export interface DeviceCerts {
  /** True when the certificate (SHA-256, lower-case hex) is revoked: O(1), in memory. */
  revoked(sha256: string): boolean;
  /** Reads the revoked set again from the store (another process may have revoked). */
  reload(): Promise<void>;
  issue(input: IssueInput, actor: string): Promise<Issued>;
  /** Revokes every certificate of a device serial (issued here, or bound to its hosts), or one fingerprint. */
  revoke(which: { serial: string } | { sha256: string }, reason: string, actor: string): Promise<DeviceCertRecord[]>;
  list(deviceSerial?: string): Promise<DeviceCertRecord[]>;
  /** The CRL (PEM) of the certificates this CA issued and revoked. */
  crl(): Promise<string>;
}

export function checkDeviceSerial(serial: string): void {
  if (!serial || serial.length > 256 || CONTROL.test(serial) || serial.trim() !== serial) {
    throw invalid('a device serial must be 1-256 characters, no control characters or surrounding spaces');
  }
}

/** Issues a certificate for a device serial, recorded and audited (key and PKCS#12 password shown once). */
async function issue(deps: DeviceCertDeps, input: IssueInput, actor: string): Promise<Issued> {
  checkDeviceSerial(input.serial);
  const days = input.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw invalid(`days must be an integer from 1 to ${MAX_DAYS}`);
  }
  const ca = await deps.ca();
  const now = deps.clock.now();
  const cert = await ca.issue(input.serial, { days, now, uriPrefix: deps.uriPrefix });
  await deps.certs.recordIssued({
    sha256: cert.sha256,
    sha1: cert.sha1,
    certSerial: cert.certSerial,
    deviceSerial: input.serial,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    issuedAt: now,
    revokedAt: null,
    revokedBy: null,
    revokeReason: null,
  });
  const pkcs12Password = input.pkcs12Password ?? randomSecret(18);
  const pkcs12 = input.withPkcs12 === false ? Buffer.alloc(0) : await ca.pkcs12(cert, pkcs12Password);
  await deps.audit.record({
    type: 'device.cert_issued',
    actor,
    serial: input.serial,
    data: { sha256: cert.sha256, cert_serial: cert.certSerial, not_after: new Date(cert.notAfter).toISOString() },
  });
  return { cert, pkcs12, pkcs12Password };
}

export function createDeviceCerts(deps: DeviceCertDeps): DeviceCerts {
  let revokedSet = new Set<string>();
  let crlCache: { pem: string; at: number; size: number; version: number } | undefined;
  let version = 0;

  async function reload(): Promise<void> {
    const next = new Set((await deps.certs.revoked()).map((r) => r.sha256));
    if (next.size !== revokedSet.size || [...next].some((s) => !revokedSet.has(s))) version++;
    revokedSet = next;
  }

  return {
    revoked: (sha256) => revokedSet.has(sha256),
    reload,

    issue: (input, actor) => issue(deps, input, actor),

    async revoke(which, reason, actor) {
      const by = { actor, reason, at: deps.clock.now() };
      let out: DeviceCertRecord[];
      if ('serial' in which) {
        out = await deps.certs.revoke({ deviceSerial: which.serial }, by);
        // certificates of other CAs the device's hosts are bound to go too
        for (const h of await deps.hosts.findBySerial(which.serial)) {
          if (h.cert && !out.some((r) => r.sha256 === h.cert?.sha256) && !revokedSet.has(h.cert.sha256)) {
            out.push(...(await deps.certs.revoke({ sha256: h.cert.sha256 }, by)));
          }
        }
      } else {
        if (!/^[0-9a-f]{64}$/.test(which.sha256)) {
          throw invalid('a fingerprint is the SHA-256 of the certificate: 64 hex digits (colons allowed)');
        }
        out = await deps.certs.revoke(which, by);
      }
      if (!out.length) throw notFound('an unrevoked certificate matching that');
      for (const r of out) revokedSet.add(r.sha256);
      version++;
      await deps.audit.record({
        type: 'device.cert_revoked',
        actor,
        serial: 'serial' in which ? which.serial : (out[0]?.deviceSerial ?? null),
        data: { reason, certificates: out.map((r) => ({ sha256: r.sha256, cert_serial: r.certSerial })) },
      });
      return out;
    },

    list: (deviceSerial) => deps.certs.list(deviceSerial === undefined ? {} : { deviceSerial }),

    async crl() {
      const now = deps.clock.now();
      if (crlCache && crlCache.version === version && now - crlCache.at < CRL_VALID_MS / 2) return crlCache.pem;
      const revoked = await deps.certs.revoked();
      const entries = revoked.flatMap((r) =>
        r.certSerial !== null && r.issuedAt !== null && r.revokedAt !== null
          ? [{ certSerial: r.certSerial, revokedAt: r.revokedAt }]
          : [],
      );
      const pem = await (await deps.ca()).crl(entries, now, CRL_VALID_MS);
      crlCache = { pem, at: now, size: entries.length, version };
      return pem;
    },
  };
}

/** A fingerprint as people paste it (`AB:CD:…`, any case) → lower-case hex. */
export const normalizeFingerprint = (s: string): string => s.replace(/[:\s]/g, '').toLowerCase();
