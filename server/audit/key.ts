/**
 * The audit chain's key (issue #15 item 2), kept outside the database: `TRUSTGATE_AUDIT_KEY` (the same
 * value on several instances sharing one log), else the key file (`TRUSTGATE_AUDIT_KEY_FILE`, default
 * `data/audit.key`, 0600). The server creates the file on first need; commands that act on an existing
 * server's data (the CLI) refuse to run without it, so they never append entries the server cannot verify.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomSecret } from '../shared/crypto.js';
import { AppError } from '../shared/errors.js';

export interface AuditKeySettings {
  auditKey?: string | undefined;
  auditKeyFile: string;
}

export function loadAuditKey(s: AuditKeySettings, opts: { create: boolean }): Buffer {
  if (s.auditKey !== undefined) return Buffer.from(s.auditKey, 'utf8');
  if (fs.existsSync(s.auditKeyFile)) {
    const text = fs.readFileSync(s.auditKeyFile, 'utf8').trim();
    if (text.length < 32)
      throw new AppError('invalid', `the audit key in ${s.auditKeyFile} is shorter than 32 characters`);
    return Buffer.from(text, 'utf8');
  }
  if (!opts.create)
    throw new AppError(
      'not_found',
      `no audit key at ${s.auditKeyFile}: set TRUSTGATE_AUDIT_KEY or TRUSTGATE_AUDIT_KEY_FILE as the server has them`,
    );
  const key = randomSecret(32);
  fs.mkdirSync(path.dirname(s.auditKeyFile), { recursive: true });
  fs.writeFileSync(s.auditKeyFile, `${key}\n`, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(s.auditKeyFile, 0o600);
  return Buffer.from(key, 'utf8');
}
