/**
 * The enrollment gate: what an enrollment that presented a valid enroll secret becomes, decided from plain
 * data (no I/O, no clock). In order: a rejected (serial, hardware UUID) pair is refused; in the certificate
 * modes the presented certificate must chain to the device CA, be current, not revoked, and name the
 * reported serial; in the inventory modes the serial must be in the inventory (else refused, or held pending)
 * and match its hardware UUID (else held pending); a re-enrollment in the certificate modes must present the
 * certificate the host is bound to (unless that one was revoked or expired). The store then keeps one rule
 * itself, atomically: a serial has at most one active host (another device's enrollment of it waits).
 * Per request, `certificateCheck` holds an enrolled host to its certificate.
 */
import type {
  CertBinding,
  EnrollMode,
  EnrollState,
  Host,
  InventoryDevice,
  PendingReason,
  PresentedCert,
} from '../domain/types.js';
import { modeNeedsCertificate, modeNeedsInventory } from '../domain/types.js';

/** Re-enrolling within this long of the last check-in is audited (the old key still worked). */
export const ACTIVE_WITHIN_MS = 60 * 60_000;

export interface GateSettings {
  mode: EnrollMode;
  /** What the inventory modes do with a serial the inventory does not list. */
  unknown: 'refuse' | 'pending';
}

export interface GateInput {
  settings: GateSettings;
  serial: string;
  hardwareUuid: string;
  now: number;
  /** An admin rejected this (serial, hardware UUID). */
  rejected: boolean;
  /** The client certificate of the connection (null: none). */
  cert: PresentedCert | null;
  /** Fingerprint → revoked. */
  revoked: (sha256: string) => boolean;
  /** The inventory's row for the serial (inventory modes; undefined when it has none). */
  inventory: InventoryDevice | undefined;
  /** The hosts already enrolled with this serial. */
  existing: readonly Host[];
}

export type GateRefusal =
  'rejected' | 'certificate' | 'not_in_inventory' | 'certificate_not_bound' | 'pending_full' | 'no_identity';

export type GateOutcome =
  | { kind: 'refuse'; reason: GateRefusal; message: string }
  | {
      kind: 'enroll';
      state: EnrollState;
      pendingReason: PendingReason | null;
      /** Bind the host to this certificate (certificate modes). */
      cert?: CertBinding;
      /** The host's binding this enrollment replaces (a renewal after the bound one was revoked or expired). */
      replacesCert: CertBinding | null;
      /** The inventory row had no hardware UUID: the enrollment binds it (trust on first use), once active. */
      bindsInventoryUuid: boolean;
      /** The same device's record, when this is a re-enrollment. */
      same: Host | undefined;
      /** Re-enrollment of a device active within ACTIVE_WITHIN_MS. */
      reenrolledActive: boolean;
      /** The enrollment may end pending (its own state, or a conflict with an active device of the serial). */
      mayBePending: boolean;
      /** The inventory's hardware UUID for the serial (null: none, or not an inventory mode). */
      inventoryUuid: string | null;
    };

const sameUuid = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const binding = (c: PresentedCert): CertBinding => ({
  sha256: c.sha256,
  sha1: c.sha1,
  serial: c.serial,
  notAfter: c.notAfter,
});

/** Why a presented certificate does not prove `serial`, or null when it does. */
export function certificateProblem(
  cert: PresentedCert | null,
  serial: string,
  now: number,
  revoked: (sha256: string) => boolean,
): string | null {
  if (!cert) {
    return 'a client certificate from the device CA is required (osquery --tls_client_cert and --tls_client_key)';
  }
  if (!cert.authorized) {
    return `the client certificate does not chain to the device CA (${cert.authorizationError ?? 'unverified'})`;
  }
  if (revoked(cert.sha256)) return 'the client certificate is revoked';
  if (now > cert.notAfter) return 'the client certificate has expired';
  if (now < cert.notBefore) return 'the client certificate is not valid yet';
  if (cert.identity === null) return 'the client certificate names no device, or more than one';
  if (cert.identity !== serial) {
    return `the client certificate names device "${cert.identity}", not the reported serial "${serial}"`;
  }
  return null;
}

const refuse = (reason: GateRefusal, message: string): GateOutcome => ({ kind: 'refuse', reason, message });

/** The inventory's verdict on the device: active, pending with a reason, or a refusal. */
function inventoryState(
  i: GateInput,
): { state: EnrollState; reason: PendingReason | null; bindsUuid: boolean } | GateOutcome {
  const row = i.inventory;
  if (!row) {
    if (i.settings.unknown === 'refuse') {
      return refuse('not_in_inventory', `serial "${i.serial}" is not in the device inventory`);
    }
    return { state: 'pending', reason: 'unknown_serial', bindsUuid: false };
  }
  if (row.hardwareUuid === null) return { state: 'active', reason: null, bindsUuid: true };
  if (!sameUuid(row.hardwareUuid, i.hardwareUuid))
    return { state: 'pending', reason: 'inventory_mismatch', bindsUuid: false };
  return { state: 'active', reason: null, bindsUuid: false };
}

/**
 * A re-enrollment in the certificate modes must present the bound certificate; another valid one only
 * when the bound one can no longer be used (revoked or expired). Returns the binding replaced, or a refusal.
 */
function rebinding(i: GateInput, same: Host, cert: PresentedCert): CertBinding | null | GateOutcome {
  const bound = same.cert;
  if (!bound || bound.sha256 === cert.sha256) return null;
  if (i.revoked(bound.sha256) || i.now > bound.notAfter) return bound;
  return refuse(
    'certificate_not_bound',
    'this device is bound to another client certificate: present that one (a renewed certificate is ' +
      'taken on a request with the current node key), or have an administrator unenroll the device',
  );
}

export function decideEnrollment(i: GateInput): GateOutcome {
  const { mode } = i.settings;
  if (!i.serial) return refuse('no_identity', 'enroll request has no usable device identity');
  if (i.rejected) {
    return refuse('rejected', 'an administrator rejected this device; ask them to clear the rejection');
  }
  const certs = modeNeedsCertificate(mode);
  if (certs) {
    const problem = certificateProblem(i.cert, i.serial, i.now, i.revoked);
    if (problem) return refuse('certificate', problem);
  }
  let state: EnrollState = 'active';
  let pendingReason: PendingReason | null = null;
  let bindsInventoryUuid = false;
  if (modeNeedsInventory(mode)) {
    const inv = inventoryState(i);
    if ('kind' in inv) return inv;
    ({ state, reason: pendingReason, bindsUuid: bindsInventoryUuid } = inv);
  }
  // the store's key is the exact (serial, hardware UUID)
  const same = i.existing.find((h) => h.hardwareUuid === i.hardwareUuid);
  let replacesCert: CertBinding | null = null;
  if (certs && same && i.cert) {
    const r = rebinding(i, same, i.cert);
    if (r && 'kind' in r) return r;
    replacesCert = r;
  }
  const conflict = i.existing.some((h) => h !== same && h.enrollState === 'active');
  return {
    kind: 'enroll',
    state,
    pendingReason,
    ...(certs && i.cert ? { cert: binding(i.cert) } : {}),
    replacesCert,
    bindsInventoryUuid,
    same,
    reenrolledActive: same !== undefined && same.enrollState === 'active' && i.now - same.lastSeenAt < ACTIVE_WITHIN_MS,
    mayBePending: state === 'pending' || conflict,
    inventoryUuid: i.inventory?.hardwareUuid ?? null,
  };
}

/** What a request's certificate means for an enrolled host (certificate modes). */
export type CertificateCheck =
  { kind: 'ok' } | { kind: 'rebind'; to: CertBinding } | { kind: 'refuse'; message: string };

/**
 * The per-request check: the connection's certificate must be the one the host is bound to (not revoked,
 * not expired), or a renewal of it (from the device CA, naming the host's serial, current, not revoked,
 * expiring no earlier than the bound one), which rebinds. O(1): a comparison of fingerprints, a set lookup,
 * a time comparison.
 */
export function certificateCheck(
  host: Host,
  cert: PresentedCert | null,
  now: number,
  revoked: (sha256: string) => boolean,
): CertificateCheck {
  const bound = host.cert;
  if (!cert) return { kind: 'refuse', message: 'no client certificate on this connection' };
  if (!bound) return { kind: 'refuse', message: 'the host was enrolled without a device certificate' };
  if (cert.sha256 === bound.sha256) {
    if (revoked(bound.sha256)) return { kind: 'refuse', message: 'the client certificate is revoked' };
    if (now > bound.notAfter) return { kind: 'refuse', message: 'the client certificate has expired' };
    return { kind: 'ok' };
  }
  const problem = certificateProblem(cert, host.serial, now, revoked);
  if (problem) return { kind: 'refuse', message: `not the host's certificate, and ${problem}` };
  // a renewal expires later than the certificate it replaces: an older one cannot take the binding back
  if (cert.notAfter < bound.notAfter) {
    return { kind: 'refuse', message: 'an older certificate than the one the host is bound to' };
  }
  return { kind: 'rebind', to: binding(cert) };
}
