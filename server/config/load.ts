/**
 * The one place that reads settings. Every command (serve and the CLI) calls `loadConfig(env, flags)`:
 * `--flag value` wins over `TRUSTGATE_*` env vars, which win over defaults (SPEC §1).
 */
import { Ajv } from 'ajv';
import path from 'node:path';
import { AppError, errorMessage } from '../shared/errors.js';
import { trustedProxyList } from '../shared/client-address.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  packsDir: string;
  certsDir: string;
  publicUrl: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dbPath: string;
  /** Body limit after decompression (bytes). */
  maxBodyBytes: number;
  /** Status logs kept per host. */
  statusLogsPerHost: number;
  /** Days an answered distributed query (recheck, enrollment-time check, live query) is kept. */
  distributedRetentionDays: number;
  /** osquery options pushed in /config. */
  distributedInterval: number;
  loggerTlsPeriod: number;
  configRefresh: number;
  /** Bounded ingest queue: batches waiting for commit before the server answers "error". */
  ingestQueueMax: number;
  /** How long a signed remediation link is valid. */
  linkTtlSeconds: number;
  /** fsync the write-ahead log before acknowledging osquery writes (power-loss durable) vs crash durable only. */
  durableFsync: boolean;
  /** Webhooks may point at loopback, link-local and private addresses (README "Security notes"). */
  webhookAllowPrivate: boolean;
  /** Who people contact, shown on the remediation page. */
  helpText?: string;
  helpUrl?: string;
  /** What proves a device at enrollment (README "Threat model"). */
  enrollMode: 'secret' | 'inventory' | 'certificate' | 'inventory+certificate';
  /** What the inventory modes do with a serial the inventory does not list. */
  enrollUnknown: 'refuse' | 'pending';
  /** Pending hosts kept at most (beyond it new pending enrollments are refused). */
  pendingMax: number;
  /** PEM bundle of the CA(s) issuing device certificates; unset: Trustgate's own, certs/device-ca.crt. */
  deviceCaFile?: string;
  /** Which certificate field must equal the reported hardware serial. */
  deviceCertIdentity: 'cn' | 'san-uri' | 'san-dns';
  /** `san-uri`: the URI prefix before the serial. */
  deviceCertUriPrefix: string;
  /**
   * The optional rule mapping a logged-in local account to a person, e.g. `{account}@example.com`; unset:
   * only the admin's account mappings map accounts (README "The device's people").
   */
  accountPersonRule?: string;
  /** Failed authentications allowed per client address / per presented credential in one window (0: no limit). */
  authFailuresPerAddress: number;
  authFailuresPerCredential: number;
  authFailureWindowSeconds: number;
  /** Peers (addresses or CIDR blocks) whose X-Forwarded-For names the client; empty: none is trusted. */
  trustedProxies: readonly string[];
  /** A TCP connection must finish its TLS handshake within this (ms). */
  tlsHandshakeTimeoutMs: number;
  /** Open connections at most on the HTTPS listener. */
  maxConnections: number;
  /** `Strict-Transport-Security: max-age=<this>`; 0: not sent. */
  hstsMaxAge: number;
  /** When set, /metrics needs `Authorization: Bearer <this>`. */
  metricsToken?: string;
  /** When set (`host:port`), /metrics is served only there, over plain HTTP. */
  metricsListen?: { host: string; port: number };
  /** The audit chain's HMAC key itself (shared by several instances); unset: read from `auditKeyFile`. */
  auditKey?: string;
  /** Where the audit key is kept (created 0600 by the server when missing); default `<dataDir>/audit.key`. */
  auditKeyFile: string;
  /** A file carve's declared size at most (bytes). */
  carveMaxBytes: number;
  /** How often the audit head is published (log line, webhook) when it changed; 0: never. */
  auditHeadIntervalSeconds: number;
  /** The request header the SSO layer in front of the gateway sets to the person's e-mail (lower case). */
  ssoUserHeader: string;
}

/** Settings: env var name, flag name, JSON schema. Documented in the README. */
const SETTINGS = {
  port: { env: 'TRUSTGATE_PORT', flag: 'port', schema: { type: 'integer', minimum: 0, maximum: 65535, default: 8443 } },
  host: { env: 'TRUSTGATE_HOST', flag: 'host', schema: { type: 'string', minLength: 1, default: '0.0.0.0' } },
  dataDir: { env: 'TRUSTGATE_DATA_DIR', flag: 'data-dir', schema: { type: 'string', minLength: 1, default: './data' } },
  packsDir: {
    env: 'TRUSTGATE_PACKS_DIR',
    flag: 'packs-dir',
    schema: { type: 'string', minLength: 1, default: './packs' },
  },
  certsDir: {
    env: 'TRUSTGATE_CERTS_DIR',
    flag: 'certs-dir',
    schema: { type: 'string', minLength: 1, default: './certs' },
  },
  publicUrl: { env: 'TRUSTGATE_PUBLIC_URL', flag: 'public-url', schema: { type: 'string', pattern: '^https?://' } },
  logLevel: {
    env: 'TRUSTGATE_LOG_LEVEL',
    flag: 'log-level',
    schema: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  },
  maxBodyBytes: {
    env: 'TRUSTGATE_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    schema: { type: 'integer', minimum: 1024, default: 8 * 1024 * 1024 },
  },
  statusLogsPerHost: {
    env: 'TRUSTGATE_STATUS_LOGS_PER_HOST',
    flag: 'status-logs-per-host',
    schema: { type: 'integer', minimum: 0, default: 100 },
  },
  distributedRetentionDays: {
    env: 'TRUSTGATE_DISTRIBUTED_RETENTION_DAYS',
    flag: 'distributed-retention-days',
    schema: { type: 'integer', minimum: 1, default: 30 },
  },
  distributedInterval: {
    env: 'TRUSTGATE_DISTRIBUTED_INTERVAL',
    flag: 'distributed-interval',
    schema: { type: 'integer', minimum: 1, default: 60 },
  },
  loggerTlsPeriod: {
    env: 'TRUSTGATE_LOGGER_TLS_PERIOD',
    flag: 'logger-tls-period',
    schema: { type: 'integer', minimum: 1, default: 10 },
  },
  configRefresh: {
    env: 'TRUSTGATE_CONFIG_REFRESH',
    flag: 'config-refresh',
    schema: { type: 'integer', minimum: 0, default: 300 },
  },
  ingestQueueMax: {
    env: 'TRUSTGATE_INGEST_QUEUE_MAX',
    flag: 'ingest-queue-max',
    schema: { type: 'integer', minimum: 1, default: 2000 },
  },
  linkTtlSeconds: {
    env: 'TRUSTGATE_LINK_TTL_SECONDS',
    flag: 'link-ttl-seconds',
    schema: { type: 'integer', minimum: 30, default: 900 },
  },
  durableFsync: { env: 'TRUSTGATE_DURABLE_FSYNC', flag: 'durable-fsync', schema: { type: 'boolean', default: true } },
  accountPersonRule: {
    env: 'TRUSTGATE_ACCOUNT_PERSON_RULE',
    flag: 'account-person-rule',
    schema: { type: 'string', maxLength: 200, pattern: '^[^\\s{}@]*\\{account\\}[^\\s{}@]*@[A-Za-z0-9.-]+$' },
  },
  webhookAllowPrivate: {
    env: 'TRUSTGATE_WEBHOOK_ALLOW_PRIVATE',
    flag: 'webhook-allow-private',
    schema: { type: 'boolean', default: false },
  },
  helpText: { env: 'TRUSTGATE_HELP_TEXT', flag: 'help-text', schema: { type: 'string', maxLength: 200 } },
  helpUrl: {
    env: 'TRUSTGATE_HELP_URL',
    flag: 'help-url',
    schema: { type: 'string', pattern: '^(https?|mailto|slack):' },
  },
  enrollMode: {
    env: 'TRUSTGATE_ENROLL_MODE',
    flag: 'enroll-mode',
    schema: {
      type: 'string',
      enum: ['secret', 'inventory', 'certificate', 'inventory+certificate'],
      default: 'secret',
    },
  },
  enrollUnknown: {
    env: 'TRUSTGATE_ENROLL_UNKNOWN',
    flag: 'enroll-unknown',
    schema: { type: 'string', enum: ['refuse', 'pending'], default: 'refuse' },
  },
  pendingMax: {
    env: 'TRUSTGATE_PENDING_MAX',
    flag: 'pending-max',
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1000 },
  },
  deviceCaFile: { env: 'TRUSTGATE_DEVICE_CA_FILE', flag: 'device-ca-file', schema: { type: 'string', minLength: 1 } },
  deviceCertIdentity: {
    env: 'TRUSTGATE_DEVICE_CERT_IDENTITY',
    flag: 'device-cert-identity',
    schema: { type: 'string', enum: ['cn', 'san-uri', 'san-dns'], default: 'cn' },
  },
  deviceCertUriPrefix: {
    env: 'TRUSTGATE_DEVICE_CERT_URI_PREFIX',
    flag: 'device-cert-uri-prefix',
    schema: { type: 'string', minLength: 1, maxLength: 200, default: 'urn:trustgate:device:' },
  },
  authFailuresPerAddress: {
    env: 'TRUSTGATE_AUTH_FAILURES_PER_ADDRESS',
    flag: 'auth-failures-per-address',
    schema: { type: 'integer', minimum: 0, default: 100 },
  },
  authFailuresPerCredential: {
    env: 'TRUSTGATE_AUTH_FAILURES_PER_CREDENTIAL',
    flag: 'auth-failures-per-credential',
    schema: { type: 'integer', minimum: 0, default: 20 },
  },
  authFailureWindowSeconds: {
    env: 'TRUSTGATE_AUTH_FAILURE_WINDOW_SECONDS',
    flag: 'auth-failure-window-seconds',
    schema: { type: 'integer', minimum: 1, maximum: 86_400, default: 60 },
  },
  trustedProxies: {
    env: 'TRUSTGATE_TRUSTED_PROXIES',
    flag: 'trusted-proxies',
    schema: { type: 'string', pattern: '^[0-9A-Fa-f:./, ]*$', maxLength: 2000, default: '' },
  },
  tlsHandshakeTimeoutMs: {
    env: 'TRUSTGATE_TLS_HANDSHAKE_TIMEOUT_MS',
    flag: 'tls-handshake-timeout-ms',
    schema: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000 },
  },
  maxConnections: {
    env: 'TRUSTGATE_MAX_CONNECTIONS',
    flag: 'max-connections',
    schema: { type: 'integer', minimum: 1, default: 10_000 },
  },
  hstsMaxAge: {
    env: 'TRUSTGATE_HSTS_MAX_AGE',
    flag: 'hsts-max-age',
    schema: { type: 'integer', minimum: 0, default: 31_536_000 },
  },
  metricsToken: {
    env: 'TRUSTGATE_METRICS_TOKEN',
    flag: 'metrics-token',
    schema: { type: 'string', minLength: 16, maxLength: 512, pattern: '^\\S+$' },
  },
  metricsListen: {
    env: 'TRUSTGATE_METRICS_LISTEN',
    flag: 'metrics-listen',
    schema: { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]+):[0-9]{1,5}$' },
  },
  auditKey: {
    env: 'TRUSTGATE_AUDIT_KEY',
    flag: 'audit-key',
    schema: { type: 'string', minLength: 32, maxLength: 1024 },
  },
  auditKeyFile: { env: 'TRUSTGATE_AUDIT_KEY_FILE', flag: 'audit-key-file', schema: { type: 'string', minLength: 1 } },
  carveMaxBytes: {
    env: 'TRUSTGATE_CARVE_MAX_BYTES',
    flag: 'carve-max-bytes',
    schema: { type: 'integer', minimum: 1, default: 256 * 1024 * 1024 },
  },
  auditHeadIntervalSeconds: {
    env: 'TRUSTGATE_AUDIT_HEAD_INTERVAL_SECONDS',
    flag: 'audit-head-interval-seconds',
    schema: { type: 'integer', minimum: 0, default: 3600 },
  },
  ssoUserHeader: {
    env: 'TRUSTGATE_SSO_USER_HEADER',
    flag: 'sso-user-header',
    schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$', default: 'X-Auth-Request-Email' },
  },
} as const;

type Key = keyof typeof SETTINGS;

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const validate = ajv.compile({
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.schema])),
});

export const SETTING_DOCS = Object.entries(SETTINGS).map(([key, s]) => ({
  key,
  env: s.env,
  flag: `--${s.flag}`,
  default: 'default' in s.schema ? s.schema.default : undefined,
}));

/** Flags the config loader understands (for the CLI parser): `--port 9000` or `--port=9000`. */
export const CONFIG_FLAGS: ReadonlySet<string> = new Set(Object.values(SETTINGS).map((s) => s.flag));

/** `127.0.0.1:9464` or `[::1]:9464` (the schema checked the shape). */
function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (port > 65535) throw new AppError('invalid', 'invalid settings: TRUSTGATE_METRICS_LISTEN port is above 65535');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Record<string, string>> = {},
): Readonly<Config> {
  const raw: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as Array<[Key, (typeof SETTINGS)[Key]]>) {
    const v = flags[s.flag] ?? env[s.env];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.slice(1) as Key;
      const s = SETTINGS[key];
      return `${s ? `${s.env} / --${s.flag}` : key} ${e.message ?? 'is invalid'}`;
    });
    throw new AppError('invalid', `invalid settings: ${problems.join('; ')}`);
  }
  const v = raw as Omit<Config, 'dbPath' | 'publicUrl' | 'trustedProxies' | 'metricsListen' | 'auditKeyFile'> & {
    publicUrl?: string;
    auditKeyFile?: string;
    trustedProxies: string;
    metricsListen?: string;
  };
  const { metricsListen, ...rest } = v;
  const dataDir = path.resolve(v.dataDir);
  const trustedProxies = v.trustedProxies.split(/[\s,]+/).filter((p) => p !== '');
  try {
    trustedProxyList(trustedProxies);
  } catch (e) {
    const why = errorMessage(e);
    throw new AppError('invalid', `invalid settings: TRUSTGATE_TRUSTED_PROXIES / --trusted-proxies: ${why}`);
  }
  return Object.freeze({
    ...rest,
    trustedProxies: Object.freeze(trustedProxies),
    ...(metricsListen ? { metricsListen: hostPort(metricsListen) } : {}),
    dataDir,
    packsDir: path.resolve(v.packsDir),
    certsDir: path.resolve(v.certsDir),
    dbPath: path.join(dataDir, 'trustgate.db'),
    auditKeyFile: path.resolve(v.auditKeyFile ?? path.join(dataDir, 'audit.key')),
    publicUrl: (v.publicUrl ?? `https://localhost:${v.port}`).replace(/\/+$/, ''),
  });
}
