/**
 * The one place that reads settings. Every command (serve and the CLI) calls `loadConfig(env, flags)`:
 * `--flag value` wins over `TRUSTGATE_*` env vars, which win over defaults (SPEC §1).
 */
import { Ajv } from 'ajv';
import path from 'node:path';
import { AppError } from '../shared/errors.js';

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
  const v = raw as Omit<Config, 'dbPath' | 'publicUrl'> & { publicUrl?: string };
  const dataDir = path.resolve(v.dataDir);
  return Object.freeze({
    ...v,
    dataDir,
    packsDir: path.resolve(v.packsDir),
    certsDir: path.resolve(v.certsDir),
    dbPath: path.join(dataDir, 'trustgate.db'),
    publicUrl: (v.publicUrl ?? `https://localhost:${v.port}`).replace(/\/+$/, ''),
  });
}
