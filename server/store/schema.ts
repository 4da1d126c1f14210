/**
 * The SQLite schema (drizzle). Source of truth for `npm run db:generate`, which writes the
 * forward-only SQL migrations in db/migrations (committed). Times are epoch milliseconds.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, blob, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const hosts = sqliteTable(
  'hosts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    serial: text('serial').notNull(),
    hardwareUuid: text('hardware_uuid').notNull(),
    hostIdentifier: text('host_identifier').notNull(),
    hostname: text('hostname').notNull(),
    platform: text('platform').notNull(),
    osPlatform: text('os_platform').notNull(),
    osName: text('os_name').notNull(),
    osVersion: text('os_version').notNull(),
    osqueryVersion: text('osquery_version').notNull(),
    hardwareVendor: text('hardware_vendor').notNull(),
    hardwareModel: text('hardware_model').notNull(),
    details: text('details').notNull(), // JSON host_details
    nodeKeyHash: text('node_key_hash'),
    enrollSecretName: text('enroll_secret_name').notNull(),
    serialConflict: integer('serial_conflict').notNull().default(0),
    enrolledAt: integer('enrolled_at').notNull(),
    /** 'active' (posture evaluated) or 'pending' (held for an admin: no packs, nothing stored, denied). */
    enrollState: text('enroll_state').notNull().default('active'),
    /** Why a pending host waits: 'unknown_serial' | 'serial_conflict' | 'inventory_mismatch'. */
    pendingReason: text('pending_reason'),
    /** The device certificate the host is bound to (certificate modes): fingerprints, serial (hex), expiry. */
    certSha256: text('cert_sha256'),
    certSha1: text('cert_sha1'),
    certSerial: text('cert_serial'),
    certNotAfter: integer('cert_not_after'),
  },
  (t) => [
    uniqueIndex('hosts_serial_uuid').on(t.serial, t.hardwareUuid),
    uniqueIndex('hosts_node_key_hash').on(t.nodeKeyHash),
    index('hosts_serial').on(t.serial),
    // the certificate index's refresh reads every active host's certificate columns a page at a time
    // (devices/cert-index.ts): from this index alone, never the hosts' wide rows (~2 KB each)
    index('hosts_enroll_state_certs').on(
      t.enrollState,
      t.id,
      t.serial,
      t.certSha256,
      t.certSha1,
      t.certSerial,
      t.certNotAfter,
    ),
    index('hosts_enroll_secret').on(t.enrollSecretName),
  ],
);

/**
 * The device inventory ("company devices"): imported from an MDM or asset export, upserted by serial.
 * `hardware_uuid` is lower-cased (compared case-insensitively), `owners` a JSON array of lower-cased e-mails.
 */
export const devices = sqliteTable('devices', {
  serial: text('serial').primaryKey(),
  hardwareUuid: text('hardware_uuid'),
  owners: text('owners').notNull().default('[]'),
  assetTag: text('asset_tag'),
  source: text('source').notNull(),
  importedAt: integer('imported_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** (serial, hardware UUID) pairs an admin rejected: refused at once until cleared. */
export const enrollRejections = sqliteTable(
  'enroll_rejections',
  {
    serial: text('serial').notNull(),
    hardwareUuid: text('hardware_uuid').notNull(),
    rejectedAt: integer('rejected_at').notNull(),
    rejectedBy: text('rejected_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.serial, t.hardwareUuid] })],
);

/**
 * The admin's mappings of local account names to people (issue #13). `serial` '' means every device (a
 * key column cannot be NULL and stay unique); `account` lower-cased, `person` canonical.
 */
export const accountMappings = sqliteTable(
  'account_mappings',
  {
    serial: text('serial').notNull(),
    account: text('account').notNull(),
    person: text('person').notNull(),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.serial, t.account] })],
);

/** Device certificates Trustgate issued, and revoked ones (also external ones revoked by fingerprint). */
export const deviceCerts = sqliteTable(
  'device_certs',
  {
    sha256: text('sha256').primaryKey(),
    sha1: text('sha1'),
    certSerial: text('cert_serial'),
    deviceSerial: text('device_serial'),
    notBefore: integer('not_before'),
    notAfter: integer('not_after'),
    /** null for an external certificate revoked by fingerprint. */
    issuedAt: integer('issued_at'),
    revokedAt: integer('revoked_at'),
    revokedBy: text('revoked_by'),
    revokeReason: text('revoke_reason'),
  },
  (t) => [index('device_certs_device').on(t.deviceSerial), index('device_certs_revoked').on(t.revokedAt)],
);

/**
 * When each host last talked to the server. Apart from `hosts` because it is written for every host seen
 * every second: an update of this narrow row does not rewrite the wide host row and its details JSON.
 */
export const hostSeen = sqliteTable('host_seen', {
  hostId: integer('host_id')
    .primaryKey()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  lastSeenAt: integer('last_seen_at').notNull(),
});

export const enrollSecrets = sqliteTable('enroll_secrets', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  hash: text('hash').notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at'),
  revokedAt: integer('revoked_at'),
});

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  role: text('role').notNull(),
  hash: text('hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
  lastUsedAt: integer('last_used_at'),
});

/** Latest result set per (host, query). */
export const latestResults = sqliteTable(
  'latest_results',
  {
    hostId: integer('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    queryKey: text('query_key').notNull(),
    rows: text('rows').notNull(), // JSON array of rows
    observedAt: integer('observed_at').notNull(),
    epoch: integer('epoch').notNull(),
    counter: integer('counter').notNull(),
    error: text('error'),
    updatedAt: integer('updated_at').notNull(),
    /** Arrival order (from `sequences`, name 'latest_results'): orders results observed in the same second. */
    seq: integer('seq').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.hostId, t.queryKey] }),
    index('latest_results_query').on(t.queryKey),
    // the startup catch-up reads what changed since the last persisted check states (latestSince)
    index('latest_results_updated').on(t.updatedAt),
  ],
);

export const statusLogs = sqliteTable(
  'status_logs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    hostId: integer('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    unixTime: integer('unix_time').notNull(),
    severity: integer('severity').notNull(),
    filename: text('filename').notNull(),
    line: integer('line').notNull(),
    message: text('message').notNull(),
    version: text('version').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [index('status_logs_host').on(t.hostId, t.id)],
);

export const checkStates = sqliteTable(
  'check_states',
  {
    hostId: integer('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    checkId: text('check_id').notNull(),
    status: text('status').notNull(),
    observed: text('observed').notNull(), // JSON rows
    message: text('message').notNull(),
    observedAt: integer('observed_at'),
    firstFailedAt: integer('first_failed_at'),
    lastPassedAt: integer('last_passed_at'),
    error: text('error'),
    /** latest_results.seq of the result this state was evaluated from. */
    resultSeq: integer('result_seq'),
  },
  (t) => [primaryKey({ columns: [t.hostId, t.checkId] })],
);

export const distributedQueries = sqliteTable(
  'distributed_queries',
  {
    id: text('id').primaryKey(),
    hostId: integer('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    sql: text('sql').notNull(),
    kind: text('kind').notNull(),
    ref: text('ref').notNull(),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    completedAt: integer('completed_at'),
    status: integer('status'),
    message: text('message'),
    rows: text('rows'),
  },
  (t) => [
    index('distributed_pending').on(t.hostId, t.completedAt),
    index('distributed_ref').on(t.ref),
    // the open queries only, by when they were queued (the work queue's sync every 2 s lists the hosts of
    // the recent ones): answered ones, every host's enrollment-time checks among them, stay in the table
    index('distributed_open')
      .on(t.createdAt, t.hostId)
      .where(sql`completed_at IS NULL`),
    // the answered ones by when, for the retention's pruning (store/distributed.ts), never a table walk
    index('distributed_answered')
      .on(t.completedAt)
      .where(sql`completed_at IS NOT NULL`),
  ],
);

export const carves = sqliteTable('carves', {
  sessionId: text('session_id').primaryKey(),
  hostId: integer('host_id')
    .notNull()
    .references(() => hosts.id, { onDelete: 'cascade' }),
  carveId: text('carve_id').notNull(),
  requestId: text('request_id').notNull(),
  blockCount: integer('block_count').notNull(),
  blockSize: integer('block_size').notNull(),
  carveSize: integer('carve_size').notNull(),
  blocksReceived: integer('blocks_received').notNull().default(0),
  createdAt: integer('created_at').notNull(),
  completedAt: integer('completed_at'),
});

export const carveBlocks = sqliteTable(
  'carve_blocks',
  {
    sessionId: text('session_id')
      .notNull()
      .references(() => carves.sessionId, { onDelete: 'cascade' }),
    blockId: integer('block_id').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.blockId] })],
);

export const breakGlassGrants = sqliteTable(
  'break_glass_grants',
  {
    id: text('id').primaryKey(),
    serial: text('serial').notNull(),
    user: text('user').notNull(),
    resource: text('resource').notNull(),
    tier: text('tier').notNull(),
    reason: text('reason').notNull(),
    durationMs: integer('duration_ms').notNull(),
    status: text('status').notNull(),
    createdAt: integer('created_at').notNull(),
    activatedAt: integer('activated_at'),
    expiresAt: integer('expires_at'),
    requestedBy: text('requested_by').notNull(),
    approvedBy: text('approved_by'),
    revokedBy: text('revoked_by'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: integer('reviewed_at'),
    decisionComment: text('decision_comment'),
  },
  (t) => [index('break_glass_user').on(t.user, t.createdAt), index('break_glass_serial').on(t.serial)],
);

/** Append-only, hash-chained audit log. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    seq: integer('seq').primaryKey(),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    serial: text('serial'),
    data: text('data').notNull(), // canonical JSON
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_type').on(t.type), index('audit_serial').on(t.serial)],
);

/** Counters kept in the database (not in a process), so they hold across restarts and instances. */
export const sequences = sqliteTable('sequences', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
});

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});
