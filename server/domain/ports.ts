/**
 * The ports: the store's repositories (async and batch-shaped so a PostgreSQL implementation can slot in
 * later; the SQLite implementation lives in server/store and is the only code that knows about SQL), and
 * the few services several modules share through an interface: the audit recorder, pending distributed
 * work with attention, and the node-key cache.
 */
import type {
  ApiToken,
  AuditEntry,
  BreakGlassGrant,
  CertBinding,
  CheckState,
  CheckStateColumns,
  DeviceCertRecord,
  DistributedQuery,
  EnrollRejection,
  EnrollSecret,
  EnrollState,
  GrantStatus,
  Host,
  HostDetails,
  InventoryDevice,
  PendingReason,
  IngestBatch,
  IngestOutcome,
  LatestResult,
  Role,
  StatusLog,
} from './types.js';

/** What an enrollment records: the host's reported facts, plus the new node key's hash. */
export type EnrollRecord = Pick<
  Host,
  | 'serial'
  | 'hardwareUuid'
  | 'hostIdentifier'
  | 'hostname'
  | 'platform'
  | 'osPlatform'
  | 'osName'
  | 'osVersion'
  | 'osqueryVersion'
  | 'hardwareVendor'
  | 'hardwareModel'
  | 'enrollSecretName'
> & {
  details: HostDetails;
  nodeKeyHash: string;
  at: number;
  /**
   * The state the enrollment gate decided. The store keeps one invariant itself, atomically: a serial has
   * at most one active host, so an `active` enrollment of a serial another active host (other hardware)
   * holds is stored `pending` with reason `serial_conflict` (the established device keeps its record).
   */
  state: EnrollState;
  pendingReason: PendingReason | null;
  /** Binds the host to this certificate; absent leaves the binding as it is. */
  cert?: CertBinding;
};

export interface EnrollOutcome {
  host: Host;
  /** True when an existing host record was reused (its previous node key is now revoked). */
  reenrolled: boolean;
  /** Hash of the node key this enrollment replaced, so caches can drop it. */
  revokedNodeKeyHash: string | null;
  /** The active hosts of the serial when this enrollment was held pending as a `serial_conflict`. */
  conflictWith: Host[];
}

/** A host removed by a bulk unenroll, with the key hash caches must drop. */
export interface UnenrolledHost {
  id: number;
  serial: string;
  nodeKeyHash: string | null;
}

export interface HostFilter {
  platform?: string;
  search?: string;
  limit?: number;
  offset?: number;
}

/** An active host's bound certificate, as the certificate index reads it (null: none bound). */
export type ActiveHostCert = Pick<Host, 'id' | 'serial' | 'cert'>;

export interface HostRepo {
  /** Enrolls or re-enrolls (same serial and hardware UUID); conflict when another host holds the key hash. */
  enroll(rec: EnrollRecord): Promise<EnrollOutcome>;
  findByNodeKeyHash(hash: string): Promise<Host | undefined>;
  get(id: number): Promise<Host | undefined>;
  /** Usually one host; several when different hardware reports the same serial. */
  findBySerial(serial: string): Promise<Host[]>;
  list(filter?: HostFilter): Promise<Host[]>;
  details(id: number): Promise<HostDetails | undefined>;
  /** Batched last-seen update (check-ins are frequent; written lazily). */
  touch(seen: ReadonlyArray<{ id: number; at: number }>): Promise<void>;
  /** Removes the host and everything about it; its node key stops working. Returns the key hash. */
  unenroll(id: number): Promise<string | null>;
  count(): Promise<number>;
  /** Sets a host's enrollment state; the host after the change and its node key hash, or undefined. */
  setEnrollState(
    id: number,
    state: EnrollState,
    reason: PendingReason | null,
  ): Promise<{ host: Host; nodeKeyHash: string | null } | undefined>;
  /** Binds the host to a (renewed) device certificate. */
  bindCert(id: number, cert: CertBinding): Promise<void>;
  /** Hosts waiting for an admin, oldest first. */
  listPending(): Promise<Host[]>;
  countPending(): Promise<number>;
  /**
   * The active hosts' ids, serials and bound certificates, by id (the gateway's certificate index: a cheap read,
   * none of a host's other columns); `page`: at most `limit` of them with an id above `afterId`.
   */
  activeCerts(page?: { afterId: number; limit: number }): Promise<ActiveHostCert[]>;
  /** Every host's id, serial and state (a cheap read to reconcile in-memory views after another process acted). */
  states(): Promise<Array<{ id: number; serial: string; state: EnrollState }>>;
  /** Unenrolls every host whose latest enrollment used this enroll secret. */
  unenrollBySecret(name: string): Promise<UnenrolledHost[]>;
}

/** A validated inventory row, before it is stored. */
export type InventoryRow = Pick<InventoryDevice, 'serial' | 'hardwareUuid' | 'owners' | 'assetTag'>;

/** What an inventory import did (or, dry run, would do). */
export interface InventoryImportOutcome {
  added: number;
  updated: number;
  unchanged: number;
  /** Rows removed because the file did not list them (`replace`). */
  removed: number;
}

export interface DeviceInventoryRepo {
  /**
   * Upserts every row by serial in one transaction (all or nothing). A row without a hardware UUID keeps
   * the one stored (bound at first enrollment). `replace` also removes the devices the rows do not list;
   * `dryRun` only counts.
   */
  import(
    rows: readonly InventoryRow[],
    opts: { source: string; at: number; replace?: boolean; dryRun?: boolean },
  ): Promise<InventoryImportOutcome>;
  get(serial: string): Promise<InventoryDevice | undefined>;
  list(filter?: { search?: string; limit?: number; offset?: number }): Promise<InventoryDevice[]>;
  count(): Promise<number>;
  remove(serial: string): Promise<boolean>;
  /** Trust on first use: records the hardware UUID of a device whose row had none. */
  bindHardwareUuid(serial: string, hardwareUuid: string, at: number): Promise<void>;
  /** An admin approved this device: the row is added, or its hardware UUID set, keeping owners and tag. */
  approve(serial: string, hardwareUuid: string, at: number): Promise<void>;
}

export interface EnrollRejectionRepo {
  add(r: EnrollRejection): Promise<void>;
  has(serial: string, hardwareUuid: string): Promise<boolean>;
  list(): Promise<EnrollRejection[]>;
  /** Clears the rejections of a serial (one hardware UUID's when given); how many. */
  clear(serial: string, hardwareUuid?: string): Promise<number>;
}

export interface DeviceCertRepo {
  /** Records a certificate Trustgate issued. */
  recordIssued(rec: DeviceCertRecord): Promise<void>;
  /**
   * Revokes by fingerprint (an unknown one is recorded, so external certificates can be revoked) or every
   * unrevoked certificate of a device serial; the records revoked now.
   */
  revoke(
    which: { sha256: string } | { deviceSerial: string },
    by: { actor: string; reason: string; at: number },
  ): Promise<DeviceCertRecord[]>;
  list(filter?: { deviceSerial?: string; revoked?: boolean }): Promise<DeviceCertRecord[]>;
  /** Every revoked certificate (for the revocation set and the CRL). */
  revoked(): Promise<DeviceCertRecord[]>;
}

export interface EnrollSecretRepo {
  create(input: { name: string; hash: string; expiresAt: number | null; at: number }): Promise<EnrollSecret>;
  list(): Promise<EnrollSecret[]>;
  /** Active (not revoked, not expired at `now`) secrets with their hashes, for constant-time matching. */
  active(now: number): Promise<Array<EnrollSecret & { hash: string }>>;
  revoke(name: string, at: number): Promise<boolean>;
}

export interface TokenRepo {
  /** Stores a token; conflict when another token (revoked or not) has the same hash. */
  create(input: { name: string; role: Role; hash: string; at: number }): Promise<ApiToken>;
  findActiveByHash(hash: string): Promise<ApiToken | undefined>;
  list(): Promise<ApiToken[]>;
  revoke(nameOrId: string, at: number): Promise<boolean>;
  markUsed(id: number, at: number): Promise<void>;
}

export interface ResultRepo {
  /** Applies a whole batch in one durable transaction (results + statuses + last_seen). */
  ingestBatch(batch: IngestBatch): Promise<IngestOutcome>;
  latestForHost(hostId: number): Promise<LatestResult[]>;
  /** Every stored latest set for the given query keys (startup rebuild, policy dry-run). */
  latestForQueries(queryKeys: readonly string[]): Promise<LatestResult[]>;
  /** Latest sets of these queries updated at or after `since` (startup catch-up). */
  latestSince(since: number, queryKeys: readonly string[]): Promise<LatestResult[]>;
  statusLogs(hostId: number, limit: number): Promise<Array<StatusLog & { receivedAt: number }>>;
}

export interface CheckStateRepo {
  putMany(states: readonly CheckState[]): Promise<void>;
  forHost(hostId: number): Promise<CheckState[]>;
  /** Every stored state; `observed: false` skips the observed rows (left empty) for a fast warm start. */
  all(opts?: { observed?: boolean }): Promise<CheckState[]>;
  /** Every stored state of the checks named (in columns; others are skipped): the warm start's read. */
  columns(checkIds: readonly string[]): Promise<CheckStateColumns>;
}

/** An agent's answer to one distributed query: its rows, or a status other than 0 and a message. */
export interface DistributedAnswer {
  rows: unknown[];
  status: number;
  message: string;
}

export interface DistributedRepo {
  /**
   * Queues queries. A query id already queued is ignored; the queries of a host that is not enrolled
   * (unenrolled meanwhile) are skipped: the host is gone, and so would be its queries.
   */
  enqueue(items: ReadonlyArray<Omit<DistributedQuery, 'sentAt' | 'completedAt'>>): Promise<void>;
  /** Queries not yet sent (or sent longer than `resendAfterMs` ago without an answer); marks them sent. */
  takePending(hostId: number, now: number, resendAfterMs: number): Promise<DistributedQuery[]>;
  hasPending(hostId: number): Promise<boolean>;
  /**
   * Hosts that have queries not yet answered: all of them (to warm the in-memory pending set at start), or
   * with `since` only those with such a query queued at or after it (`createdAt`, epoch ms), which reads
   * the recent queries and not every open one.
   */
  pendingHostIds(since?: number): Promise<number[]>;
  /**
   * Records the answers of a host's queries (rows or error) and completes them, in one transaction; the
   * completed queries in the answers' order, undefined for an id the host was not asked.
   */
  complete(
    hostId: number,
    answers: ReadonlyArray<{ id: string; answer: DistributedAnswer }>,
    at: number,
  ): Promise<Array<DistributedQuery | undefined>>;
  /**
   * The host's queries of one kind handed out at or after `since` (answered or not), with their answer
   * rows when answered: what carve/begin checks a carve against.
   */
  sentSince(hostId: number, kind: DistributedQuery['kind'], since: number): Promise<SentQuery[]>;
  /**
   * Deletes at most `limit` queries answered before `before` (epoch ms), the oldest answers first, and
   * returns how many; a query not answered yet is never deleted (the retention: control/retention.ts).
   */
  pruneAnswered(before: number, limit: number): Promise<number>;
  /** Live-query campaign results. */
  campaignResults(ref: string): Promise<
    Array<{
      hostId: number;
      id: string;
      status: number | null;
      message: string | null;
      rows: unknown[] | null;
      completedAt: number | null;
    }>
  >;
}

/** A query handed out to a host, with its answer's rows (null until answered, or answered with an error). */
export interface SentQuery extends DistributedQuery {
  rows: unknown[] | null;
}

export interface Carve {
  sessionId: string;
  hostId: number;
  carveId: string;
  requestId: string;
  blockCount: number;
  blockSize: number;
  carveSize: number;
  blocksReceived: number;
  createdAt: number;
  completedAt: number | null;
}

export interface CarveRepo {
  /** Starts a session. not_found when the host is not enrolled; conflict when the session id is in use. */
  begin(c: Omit<Carve, 'blocksReceived' | 'completedAt'>): Promise<void>;
  get(sessionId: string): Promise<Carve | undefined>;
  /** Stores a block (duplicates ignored); returns the carve after the write. */
  addBlock(sessionId: string, blockId: number, data: Buffer, at: number): Promise<Carve>;
  data(sessionId: string): Promise<Buffer | undefined>;
  /** A complete carve's blocks in order, read one at a time (downloads stream it); undefined if incomplete. */
  blocks(sessionId: string): Promise<Iterable<Buffer> | undefined>;
  list(): Promise<Carve[]>;
  /** The host's carves begun at or after `since`. */
  ofHost(hostId: number, since: number): Promise<Carve[]>;
}

export interface BreakGlassRepo {
  insert(g: BreakGlassGrant): Promise<void>;
  get(id: string): Promise<BreakGlassGrant | undefined>;
  update(id: string, patch: Partial<BreakGlassGrant>): Promise<BreakGlassGrant | undefined>;
  list(filter?: { status?: GrantStatus; user?: string; serial?: string; since?: number }): Promise<BreakGlassGrant[]>;
}

/** Which audit entries to list: by type (a trailing `.*` matches a prefix), actor, serial, time, position. */
export interface AuditFilter {
  type?: string;
  actor?: string;
  serial?: string;
  since?: number;
  until?: number;
  limit?: number;
  afterSeq?: number;
}

export interface AuditRepo {
  /** Appends entries, chaining each to the previous hash inside one transaction. */
  append(entries: ReadonlyArray<Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>>): Promise<AuditEntry[]>;
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Every entry in order, for chain verification. */
  all(): Promise<AuditEntry[]>;
}

// ───────────────────────────── the device's people (issue #13) ─────────────────────────────

/**
 * An admin's mapping of a local account name (as osquery reports it) to a person (canonical e-mail).
 * `serial` null: the account means this person on every device (it only translates accounts osquery
 * reports as logged in); with a serial: on that device only, and the person is one of its people.
 */
export interface AccountMapping {
  serial: string | null;
  /** As osquery reports it, compared case-insensitively (stored lower-cased). */
  account: string;
  person: string;
  createdAt: number;
  createdBy: string;
}

export interface AccountMappingRepo {
  /** Every mapping, ordered by account then serial (global first). */
  list(): Promise<AccountMapping[]>;
  /** Adds or replaces the mapping of (serial, account); returns the one it replaced. */
  put(m: AccountMapping): Promise<AccountMapping | undefined>;
  /** Removes the mapping of (serial, account); returns it, or undefined when there was none. */
  remove(serial: string | null, account: string): Promise<AccountMapping | undefined>;
}

/** How a person relates to a device: one of its people, not one of them, or the device has no known people. */
export type PersonMatch = 'yes' | 'no' | 'none';

/** The device's people, kept in memory per serial so the gateway's lookup stays synchronous. */
export interface DevicePeopleLookup {
  /** `person` is a canonical person or null (no person on the request: never 'yes'). */
  match(serial: string, person: string | null): PersonMatch;
}

/** Key/value settings that must survive restarts (HMAC key for signed links, first-start marker). */
export interface SettingsRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface Store {
  hosts: HostRepo;
  secrets: EnrollSecretRepo;
  tokens: TokenRepo;
  results: ResultRepo;
  checkStates: CheckStateRepo;
  distributed: DistributedRepo;
  carves: CarveRepo;
  breakGlass: BreakGlassRepo;
  audit: AuditRepo;
  settings: SettingsRepo;
  inventory: DeviceInventoryRepo;
  rejections: EnrollRejectionRepo;
  deviceCerts: DeviceCertRepo;
  accountMappings: AccountMappingRepo;
  /**
   * A number that moves whenever what maps a certificate to a device changes, by this process or another:
   * a host added or removed, a host's serial, enrollment state or bound certificate changed, an issued
   * certificate recorded, revoked or removed. Kept by the database itself (SQLite: triggers, migration
   * 0009); the certificate index (devices/cert-index.ts) rebuilds only when it moved.
   */
  deviceIdentityVersion(): Promise<number>;
  /** True when the database answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// ───────────────────────────── audit recorder ─────────────────────────────

/** Every event type Trustgate records in the audit log. */
export type AuditEventType =
  // admin mutations (admin API, CLI, first start)
  | 'admin.bootstrap'
  | 'admin.apply'
  | 'admin.token.created'
  | 'admin.token.revoked'
  | 'admin.secret.created'
  | 'admin.secret.revoked'
  | 'admin.pack.put'
  | 'admin.pack.deleted'
  | 'admin.policy.put'
  | 'admin.query'
  | 'admin.host.unenrolled'
  // devices
  | 'host.enrolled'
  | 'host.recheck'
  | 'decision.changed'
  // device identity (issue #12): enrollment conflicts, approvals, certificates, inventory
  | 'device.enroll_conflict'
  | 'device.reenrolled'
  | 'device.approved'
  | 'device.rejected'
  | 'device.rejection_cleared'
  | 'device.unenrolled'
  | 'device.cert_bound'
  | 'device.cert_rebound'
  | 'device.cert_issued'
  | 'device.cert_revoked'
  | 'device.inventory_imported'
  | 'device.inventory_removed'
  // the device's people (issue #13): admin mappings of local accounts to people
  | 'device.account_mapped'
  | 'device.account_unmapped'
  // break glass (SPEC §6)
  | 'break_glass.requested'
  | 'break_glass.refused'
  | 'break_glass.approved'
  | 'break_glass.denied'
  | 'break_glass.cancelled'
  | 'break_glass.used'
  | 'break_glass.expired'
  | 'break_glass.revoked'
  | 'break_glass.reviewed'
  // the audit log itself (issue #15): keyed from here on (appended when the server starts on a legacy tail)
  | 'audit.keyed';

export interface AuditEvent {
  type: AuditEventType;
  /** Who did it: a token name, a user, `host:<serial>`, or `system`. */
  actor: string;
  serial?: string | null;
  data?: unknown;
  /** Defaults to the recorder's clock. */
  at?: number;
}

/** A device's decision for a tier changed (recorded as `decision.changed`, actor `system`). */
export interface DecisionChange {
  serial: string;
  tier: string;
  from: 'allow' | 'deny' | null;
  to: 'allow' | 'deny';
  reasons?: readonly string[];
  at?: number;
}

/** Records audit events into the append-only, hash-chained log. Users take the methods they need. */
export interface AuditRecorder {
  /** Appends one entry. Throws when the store fails: a mutation that cannot be audited should fail. */
  record(event: AuditEvent): Promise<unknown>;
  /** Like `record` but never throws (failures are logged): background paths. */
  tryRecord(event: AuditEvent): Promise<unknown>;
  /** Buffers a background event; appended with others a few times a second. Never throws. */
  later(event: AuditEvent): void;
  /** `later` of a `decision.changed` event. */
  decisionChanged(change: DecisionChange): void;
}

// ───────────────────────────── distributed work and attention ─────────────────────────────

/** What one distributed/read answers a host: queries to run (id → SQL), and how long to poll fast. */
export interface DistributedPoll {
  queries: Record<string, string>;
  /** Seconds the agent should check in every 5 s (osquery `accelerate`); absent when not needed. */
  accelerate?: number;
}

/**
 * The one owner of pending distributed work (rechecks, live queries) and of attention (a person has the
 * device's remediation page open, so it should poll fast). The control plane queues and attends; the
 * osquery surface polls and completes. A database can back it: with several instances, a person's page
 * may be open on one instance while the agent polls another.
 */
export interface DistributedWork {
  /** Queues queries durably; each host's next poll gets them. */
  enqueue(items: ReadonlyArray<Omit<DistributedQuery, 'sentAt' | 'completedAt'>>): Promise<void>;
  /** A person is looking at the host: its polls are answered with `accelerate` until `untilMs`. */
  attend(hostId: number, untilMs: number): Promise<void>;
  /** The host's distributed/read: queries not yet sent (or due again) are marked sent and returned. */
  poll(hostId: number, now: number): Promise<DistributedPoll>;
  /** Records the answers of a host's queries; undefined for an unknown id. */
  complete: DistributedRepo['complete'];
}

// ───────────────────────────── device events ─────────────────────────────

/**
 * What the osquery surface tells about a device's identity as it happens: audited and sent to the webhook
 * by the device service (the security team wants to hear of each at once).
 */
export type DeviceEvent =
  | {
      /** A second device claims a known serial, or hardware that does not match the inventory: held pending. */
      type: 'device.enroll_conflict';
      host: Host;
      reason: PendingReason;
      /** The active hosts of the serial (serial_conflict), or none. */
      established: Host[];
      /** The inventory's hardware UUID (inventory_mismatch). */
      inventoryUuid?: string | null;
    }
  | {
      /**
       * An enrollment of an established (active) device's serial refused for its certificate (certificate
       * modes): someone without the device's certificate tried to enroll it. Audited as
       * `device.enroll_conflict` with `refused: true`, at most once per (serial, hardware UUID) in 10 minutes.
       */
      type: 'device.enroll_refused';
      serial: string;
      hardwareUuid: string;
      hostname: string;
      why: string;
      established: Host[];
    }
  | {
      /** A device active in the last hour enrolled again (on its old key it still could have talked). */
      type: 'device.reenrolled';
      host: Host;
      previousSeenAt: number;
    }
  | {
      /** A host's certificate binding: first bound (`from` null) or replaced by a renewed one. */
      type: 'device.cert_bound' | 'device.cert_rebound';
      host: Host;
      from: CertBinding | null;
      to: CertBinding;
    };

export interface DeviceEventSink {
  /** Never throws, never blocks the request: audit and webhook delivery happen in the background. */
  deviceEvent(e: DeviceEvent): void;
}

// ───────────────────────────── node keys ─────────────────────────────

/**
 * Hosts by node-key hash, cached so a check-in authenticates without a store read. The osquery surface
 * fills it; whoever revokes a node key (unenroll, re-enroll) drops it at once. Per process: with several
 * instances, a key revoked on one stays usable on another until its entry expires.
 */
export interface NodeKeyCache {
  get(hash: string): Host | undefined;
  set(hash: string, host: Host): void;
  delete(hash: string): void;
  /** Drops every entry (another process changed hosts: each is read again at its next check-in). */
  clear(): void;
}

// ───────────────────────────── last seen ─────────────────────────────

/**
 * When each device last spoke to the server: the one source of truth for `last_seen_at`. The osquery
 * surface marks it on every authenticated request and at enrollment; verdicts, the admin API and the CLI
 * read it; it is flushed to the store (`HostRepo.touch`) every second, so another process reading the
 * store (the CLI) is at most that far behind. Per process, like the node-key cache.
 */
export interface LastSeen {
  /** The host spoke at `at` (a time never moves back). */
  mark(hostId: number, at: number): void;
  /** When the host was last seen, or undefined when this process has not heard of it. Allocates nothing. */
  get(hostId: number): number | undefined;
}
