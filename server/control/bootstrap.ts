/**
 * First start: an enroll secret (`data/enroll_secret`, 0600), an admin token (printed once, stored as a
 * hash) and the signing key for remediation links (`data/link.key`, 0600). Later starts print nothing secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AuditRecorder, EnrollSecretRepo, SettingsRepo, TokenRepo } from '../domain/ports.js';
import { randomSecret } from '../shared/crypto.js';
import { mintEnrollSecret, mintToken } from './credentials.js';

export interface BootstrapResult {
  firstStart: boolean;
  enrollSecretFile: string;
  /** Only on first start. */
  adminToken?: string;
  linkKey: string;
}

function readOrCreateSecretFile(file: string, make: () => string): { value: string; created: boolean } {
  if (fs.existsSync(file)) return { value: fs.readFileSync(file, 'utf8').trim(), created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const value = make();
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { value, created: true };
}

export interface BootstrapDeps {
  settings: Pick<SettingsRepo, 'get' | 'set'>;
  secrets: Pick<EnrollSecretRepo, 'list' | 'create'>;
  tokens: Pick<TokenRepo, 'list' | 'create'>;
  audit: Pick<AuditRecorder, 'record'>;
}

export async function bootstrap(deps: BootstrapDeps, dataDir: string, now: number): Promise<BootstrapResult> {
  const enrollSecretFile = path.join(dataDir, 'enroll_secret');
  const linkKey = readOrCreateSecretFile(path.join(dataDir, 'link.key'), () => randomSecret(32)).value;
  const done = await deps.settings.get('bootstrapped_at');
  if (done) return { firstStart: false, enrollSecretFile, linkKey };

  if ((await deps.secrets.list()).length === 0) {
    const { value } = readOrCreateSecretFile(enrollSecretFile, () => randomSecret(32));
    await mintEnrollSecret(deps.secrets, { name: 'default', expiresAt: null, at: now, value });
  }
  let adminToken: string | undefined;
  if ((await deps.tokens.list()).length === 0) {
    adminToken = (await mintToken(deps.tokens, { name: 'bootstrap-admin', role: 'admin', at: now })).token;
  }
  await deps.settings.set('bootstrapped_at', String(now));
  await deps.audit.record({
    type: 'admin.bootstrap',
    actor: 'system',
    at: now,
    data: { enroll_secret: 'default', admin_token: adminToken ? 'bootstrap-admin' : null },
  });
  return { firstStart: true, enrollSecretFile, linkKey, ...(adminToken ? { adminToken } : {}) };
}

/** The exact osqueryd flags an agent needs for this server. */
export function osquerydFlags(opts: {
  host: string;
  port: number;
  caFile: string;
  secretFile: string;
  prefix?: string;
}): string {
  const p = opts.prefix ?? '/api/v1/osquery';
  return [
    `--tls_hostname=${opts.host}:${opts.port}`,
    `--tls_server_certs=${opts.caFile}`,
    `--enroll_secret_path=${opts.secretFile}`,
    `--enroll_tls_endpoint=${p}/enroll`,
    '--config_plugin=tls',
    `--config_tls_endpoint=${p}/config`,
    '--config_refresh=300',
    '--logger_plugin=tls',
    `--logger_tls_endpoint=${p}/log`,
    '--logger_tls_period=10',
    '--disable_distributed=false',
    '--distributed_plugin=tls',
    `--distributed_tls_read_endpoint=${p}/distributed/read`,
    `--distributed_tls_write_endpoint=${p}/distributed/write`,
    '--distributed_interval=60',
    '--disable_carver=false',
    `--carver_start_endpoint=${p}/carve/begin`,
    `--carver_continue_endpoint=${p}/carve/block`,
    '--carver_block_size=2000000',
  ].join('\n');
}
