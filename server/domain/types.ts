/**
 * The vocabulary of Trustgate. Plain data only: no I/O, no classes with behaviour.
 * Times are epoch milliseconds unless a name says otherwise (unixTime is osquery's seconds).
 */

/** Normalised osquery platform family (osquery's own platform names). */
export type Platform = 'darwin' | 'windows' | 'linux' | 'freebsd' | 'unknown';

/** A result row as osquery reports it: column → value. Values are normalised to strings at the edge. */
export type Row = Record<string, string>;

/** host_details as sent at enroll: each table's first row, all values strings (dirty data allowed). */
export interface HostDetails {
  os_version?: Record<string, string>;
  osquery_info?: Record<string, string>;
  system_info?: Record<string, string>;
  platform_info?: Record<string, string>;
}

export interface Host {
  id: number;
  /** The device key: hardware serial, falling back to the hardware UUID. */
  serial: string;
  hardwareUuid: string;
  hostIdentifier: string;
  hostname: string;
  platform: Platform;
  /** os_version.platform as reported (ubuntu, rhel, darwin, windows, …): used for osquery-style platform matching. */
  osPlatform: string;
  osName: string;
  osVersion: string;
  osqueryVersion: string;
  hardwareVendor: string;
  hardwareModel: string;
  enrolledAt: number;
  lastSeenAt: number;
  /** Another device (different hardware UUID) reports the same serial: kept apart and flagged. */
  serialConflict: boolean;
  /** Name of the enroll secret used for the latest enrollment. */
  enrollSecretName: string;
  /** `pending`: held for an admin (no packs, results not stored, every verdict denies `pending_enrollment`). */
  enrollState: EnrollState;
  /** Why a pending host waits; null when active. */
  pendingReason: PendingReason | null;
  /** The device certificate the host is bound to (certificate modes); null when none. */
  cert: CertBinding | null;
}

export type EnrollState = 'active' | 'pending';
export type PendingReason = 'unknown_serial' | 'serial_conflict' | 'inventory_mismatch';

/**
 * What proves the device at enrollment (server setting, not policy): `secret` (anyone with the enroll
 * secret), `inventory` (company devices only), `certificate` (a device certificate naming the serial), or both.
 */
export type EnrollMode = 'secret' | 'inventory' | 'certificate' | 'inventory+certificate';

export const ENROLL_MODES: readonly EnrollMode[] = ['secret', 'inventory', 'certificate', 'inventory+certificate'];
export const modeNeedsInventory = (m: EnrollMode): boolean => m === 'inventory' || m === 'inventory+certificate';
export const modeNeedsCertificate = (m: EnrollMode): boolean => m === 'certificate' || m === 'inventory+certificate';

/**
 * A device certificate as bound to a host. Fingerprints are lower-case hex without separators (SHA-256 is
 * what Trustgate matches; SHA-1 is what nginx's `$ssl_client_fingerprint` and osquery's `certificates`
 * table report); `serial` is the certificate serial in upper-case hex, as nginx's `$ssl_client_serial`.
 */
export interface CertBinding {
  sha256: string;
  sha1: string;
  serial: string;
  notAfter: number;
}

/** The client certificate a TLS connection presented, read once per connection. */
export interface PresentedCert extends CertBinding {
  notBefore: number;
  /**
   * The device identity the certificate names (the configured field: CN, or the one matching SAN URI /
   * DNS name); null when the field is absent or appears more than once (ambiguous: refused).
   */
  identity: string | null;
  /** The chain verified to the device CA at the handshake (Node's `socket.authorized`). */
  authorized: boolean;
  /** Why it did not verify, when it did not. */
  authorizationError: string | null;
}

/** One device of the inventory (company devices), as imported from an MDM or asset export. */
export interface InventoryDevice {
  serial: string;
  /** Lower-case; null when the export has none (the first enrollment binds it: trust on first use). */
  hardwareUuid: string | null;
  /** Lower-cased e-mail addresses (the canonical form of a person). */
  owners: string[];
  assetTag: string | null;
  /** The file name it was imported from, `api`, or `approved` (an admin approved a pending device). */
  source: string;
  importedAt: number;
  updatedAt: number;
}

/** A device certificate Trustgate issued, or one it revoked (external ones: by fingerprint only). */
export interface DeviceCertRecord {
  sha256: string;
  sha1: string | null;
  certSerial: string | null;
  deviceSerial: string | null;
  notBefore: number | null;
  notAfter: number | null;
  /** null for an external certificate revoked by fingerprint. */
  issuedAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string | null;
}

/** A (serial, hardware UUID) pair an admin rejected: refused at enrollment until cleared. */
export interface EnrollRejection {
  serial: string;
  hardwareUuid: string;
  rejectedAt: number;
  rejectedBy: string;
}

export type Role = 'admin' | 'gateway' | 'viewer';

export interface ApiToken {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface EnrollSecret {
  id: number;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

// ───────────────────────────── packs and checks (SPEC §5) ─────────────────────────────

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** Trustgate's `check` extension on a pack query. Stripped before the config reaches agents. */
export interface CheckSpec {
  /** The desired state ("FileVault disk encryption is on"). */
  title: string;
  /** The failing state ("FileVault is off"): what the remediation page titles the check while it fails. */
  fail_title?: string;
  /** Shown to a person when the check does not pass; may interpolate `{{column}}` from the first row. */
  message: string;
  remediation_url?: string;
  /** Optional CEL expression over `rows` (list of maps of strings); absent ⇒ pass iff rows non-empty. */
  pass?: string;
  severity?: Severity;
}

/** One query of an osquery pack, as in osquery's pack format (plus the optional `check`). */
export interface PackQuery {
  query: string;
  interval?: number;
  platform?: string;
  version?: string;
  shard?: number;
  snapshot?: boolean;
  removed?: boolean;
  denylist?: boolean;
  description?: string;
  value?: string;
  check?: CheckSpec;
  [extra: string]: unknown;
}

export interface Pack {
  /** Pack name (file base name, or the key in a config's `packs` map). */
  name: string;
  /** File it came from (for messages). */
  source: string;
  platform?: string;
  version?: string;
  shard?: number;
  discovery?: string[];
  queries: Record<string, PackQuery>;
  [extra: string]: unknown;
}

/** A posture check: a pack query carrying a `check` extension. Its id is the query name (unique). */
export interface CheckDef {
  id: string;
  pack: string;
  sql: string;
  /** Effective platform filter (query's, else pack's); undefined = all platforms. */
  platform?: string;
  intervalSeconds: number;
  snapshot: boolean;
  title: string;
  /** The failing-state phrasing (CheckSpec.fail_title). */
  failTitle?: string;
  message: string;
  remediationUrl?: string;
  pass?: string;
  severity: Severity;
}

// ───────────────────────────── policy (SPEC §3, §5) ─────────────────────────────

export type ResourceMode = 'enforce' | 'monitor';
export type Approval = 'none' | 'required' | 'never';

export interface Tier {
  name: string;
  maxAgeMs: number;
  checks: string[];
  /**
   * `require_device_user: true`: the person on the request must be one of the device's people (inventory
   * owners, admin account mappings, mapped logged-in accounts), else `device_user_mismatch`.
   */
  requireDeviceUser?: boolean;
}

export interface Resource {
  name: string;
  tier: string;
  mode: ResourceMode;
  hosts: string[];
  title?: string;
}

export interface BreakGlassPolicy {
  maxDurationMs: number;
  limit: { count: number; windowMs: number };
  /** Per tier; tiers not listed default to `required`. */
  approval: Record<string, Approval>;
  webhook?: string;
}

export interface Policy {
  tiers: Record<string, Tier>;
  resources: Record<string, Resource>;
  breakGlass: BreakGlassPolicy;
  /** Where device-identity events (enrollment conflicts, approvals) are sent; else `breakGlass.webhook`. */
  webhook?: string;
  /** The source document as loaded (for GET /api/v1/policy). */
  source: unknown;
}

// ───────────────────────────── results and posture (SPEC §2, §3) ─────────────────────────────

/**
 * One change to the latest result set of (host, query), normalised from any log shape or a
 * distributed write. `queryKey` is `<pack>/<query>` for pack queries, the bare name otherwise.
 */
export interface ResultUpdate {
  queryKey: string;
  /** snapshot: replace the set with `added`; diff: remove `removed`, add `added` (counter 0 = full set). */
  mode: 'snapshot' | 'diff';
  /** Agent time of the run in seconds (server receive time for distributed results). */
  unixTime: number;
  epoch: number;
  counter: number;
  added: Row[];
  removed: Row[];
  /** A query the agent failed to run (distributed status ≠ 0): the set is not touched, the error is kept. */
  error?: string;
}

export interface StatusLog {
  unixTime: number;
  severity: number;
  filename: string;
  line: number;
  message: string;
  version: string;
}

/** A batch from one /log or /distributed/write request: committed atomically, or not at all. */
export interface IngestBatch {
  hostId: number;
  receivedAt: number;
  results: ResultUpdate[];
  statuses: StatusLog[];
}

/** The latest result set of (host, query), after a batch was applied. */
export interface LatestResult {
  hostId: number;
  queryKey: string;
  rows: Row[];
  /** Agent time (ms) of the run the set reflects. */
  observedAt: number;
  epoch: number;
  counter: number;
  error: string | null;
  updatedAt: number;
  /**
   * Arrival order: a sequence the store assigns to every set it stores (increasing in commit order, kept
   * in the database so that it holds across restarts and, later, across instances). 0 for sets stored
   * before the sequence existed.
   */
  seq: number;
}

/**
 * The time a result counts as observed at: the agent's run time, capped by when the server received it
 * (an agent whose clock runs ahead cannot stamp results in the future). The posture engine evaluates
 * freshness by it; results are ordered by its second, then by arrival (`compareResultOrder`).
 */
export function effectiveObservedAt(r: Pick<LatestResult, 'observedAt' | 'updatedAt'>): number {
  return Number.isFinite(r.updatedAt) && r.updatedAt > 0 ? Math.min(r.observedAt, r.updatedAt) : r.observedAt;
}

/**
 * Where a result stands among the results of its (device, query): the second it was observed in (the
 * agent's run time capped by arrival, `effectiveObservedAt`), then its arrival `seq`. Seconds, because
 * osquery stamps its results in whole seconds and so does a recheck answer; arrival within a second,
 * because "the same second" says nothing about which came first. A total order, kept by the store and
 * followed by the posture engine.
 */
export interface ResultOrder {
  /** Epoch seconds; NaN when nothing was observed yet. */
  second: number;
  /** Arrival sequence; NaN when not known (a check state persisted before the sequence existed). */
  seq: number;
}

export const resultOrderOf = (r: Pick<LatestResult, 'observedAt' | 'updatedAt' | 'seq'>): ResultOrder => ({
  second: Math.floor(effectiveObservedAt(r) / 1000),
  seq: r.seq,
});

/**
 * Negative when `a` is older than `b`, positive when newer, 0 when neither is known to be (the same
 * result, or an unknown side). Nothing observed (`b.second` NaN) is older than anything.
 */
export function compareResultOrder(a: ResultOrder, b: ResultOrder): number {
  if (Number.isNaN(b.second)) return Number.isNaN(a.second) ? 0 : 1;
  if (Number.isNaN(a.second)) return -1;
  if (a.second !== b.second) return a.second - b.second;
  if (Number.isNaN(a.seq) || Number.isNaN(b.seq)) return 0;
  return a.seq - b.seq;
}

export interface IngestOutcome {
  /** Sets that changed or were re-observed by this batch (skipped out-of-order updates excluded). */
  latest: LatestResult[];
  /** Updates ignored because a newer result was already stored (or it was an exact retry). */
  skipped: number;
  rowsApplied: number;
}

export type CheckStatus = 'pass' | 'fail' | 'unknown' | 'error';

/** What Trustgate knows about one check on one device. */
/** Check statuses by their compact code (the index), as `CheckStateColumns.status` holds them. */
export const CHECK_STATUSES: readonly CheckStatus[] = Object.freeze(['unknown', 'pass', 'fail', 'error']);

/**
 * Every stored check state in columns (index i of each array is one state), for the warm start: no
 * observed rows, no order, and the text a verdict shows only where it shows it (the message of a failing
 * state, the error of an erroring one).
 */
export interface CheckStateColumns {
  length: number;
  hostId: Float64Array;
  /** Index of the state's check in the check ids the columns were read for. */
  check: Uint16Array;
  /** Index in CHECK_STATUSES. */
  status: Uint8Array;
  /** NaN where the stored value is null. */
  observedAt: Float64Array;
  firstFailedAt: Float64Array;
  lastPassedAt: Float64Array;
  resultSeq: Float64Array;
  /** By state index: the message of each state whose status is fail. */
  message: Map<number, string>;
  /** By state index: the error of each state whose status is error. */
  error: Map<number, string>;
}

export interface CheckState {
  hostId: number;
  checkId: string;
  status: CheckStatus;
  /** Values observed (the first rows, trimmed), for the message and the page. */
  observed: Row[];
  /** The person-facing message, with values interpolated. */
  message: string;
  observedAt: number | null;
  firstFailedAt: number | null;
  lastPassedAt: number | null;
  error: string | null;
  /** The arrival `seq` of the result evaluated (LatestResult.seq); null before any, or when not known. */
  resultSeq: number | null;
}

/** Reasons are a closed vocabulary (plus check ids, which name the failing check). */
export type ReasonStatus = CheckStatus | 'stale' | 'missing';
/**
 * `unknown_device_certificate`: the gateway passed a client certificate that no device is mapped to
 * (not issued or bound at enrollment, not reported by the device that it names). `device_user_mismatch`:
 * the tier requires the person on the request to be one of the device's people, and they are not.
 */
export type DeviceReason =
  'unknown_device' | 'serial_conflict' | 'pending_enrollment' | 'device_user_mismatch' | 'unknown_device_certificate';

export interface DistributedQuery {
  id: string;
  hostId: number;
  sql: string;
  /**
   * `recheck`: a check run again on request; `enroll`: a check queued at enrollment (answered like a
   * recheck, with a short `accelerate`); `live`: a live query.
   */
  kind: 'recheck' | 'enroll' | 'live' | 'carve';
  /** For rechecks and enrollment checks: the check it runs. For live queries: the campaign id. */
  ref: string;
  createdAt: number;
  sentAt: number | null;
  completedAt: number | null;
}

// ───────────────────────────── people (SPEC §6) ─────────────────────────────

export type GrantStatus = 'pending' | 'active' | 'denied' | 'revoked' | 'expired';

export interface BreakGlassGrant {
  id: string;
  serial: string;
  user: string;
  resource: string;
  tier: string;
  reason: string;
  durationMs: number;
  status: GrantStatus;
  createdAt: number;
  /** Set when the grant becomes active (at creation if no approval is needed). */
  activatedAt: number | null;
  expiresAt: number | null;
  requestedBy: string;
  approvedBy: string | null;
  revokedBy: string | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  /** The approver's comment on approve or deny (required on deny): shown to the requester. */
  decisionComment: string | null;
}

export interface AuditEntry {
  seq: number;
  at: number;
  type: string;
  actor: string;
  serial: string | null;
  data: unknown;
  prevHash: string;
  hash: string;
}
