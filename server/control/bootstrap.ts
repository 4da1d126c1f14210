/**
 * First start: an enroll secret (`data/enroll_secret`, 0600), an admin token (stored as a hash; the token
 * itself goes to `data/admin_token`, 0600, for the operator to pick up, never to a log) and the signing
 * key for remediation links (`data/link.key`, 0600). Later starts create no secrets. Whatever else a first
 * start hands out once follows the admin token's rule: a 0600 file in the data directory.
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
  /** Where the first start wrote the admin token (0600), when it created one. */
  adminTokenFile?: string;
  linkKey: string;
}

/** Writes a secret to a new file only its owner can read (0600); an old file (or link) there is replaced. */
function writeSecretFile(file: string, value: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(file, 0o600);
}

function readOrCreateSecretFile(file: string, make: () => string): { value: string; created: boolean } {
  if (fs.existsSync(file)) return { value: fs.readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeSecretFile(file, value);
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
  const adminTokenFile = path.join(dataDir, 'admin_token');
  if ((await deps.tokens.list()).length === 0) {
    adminToken = (await mintToken(deps.tokens, { name: 'bootstrap-admin', role: 'admin', at: now })).token;
    writeSecretFile(adminTokenFile, adminToken);
  }
  await deps.settings.set('bootstrapped_at', String(now));
  await deps.audit.record({
    type: 'admin.bootstrap',
    actor: 'system',
    at: now,
    data: { enroll_secret: 'default', admin_token: adminToken ? 'bootstrap-admin' : null },
  });
  return { firstStart: true, enrollSecretFile, linkKey, ...(adminToken ? { adminToken, adminTokenFile } : {}) };
}
