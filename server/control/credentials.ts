/**
 * API tokens and enroll secrets: minted here (shown once), stored only as SHA-256 hashes.
 * Shared by the admin API, the CLI and first-start bootstrap.
 */
import type { EnrollSecretRepo, TokenRepo } from '../domain/ports.js';
import type { ApiToken, EnrollSecret, Role } from '../domain/types.js';
import { randomSecret, sha256Hex } from '../shared/crypto.js';
import { invalid } from '../shared/errors.js';

export const ROLES: readonly Role[] = ['admin', 'gateway', 'viewer'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkName(name: string, what: string): void {
  if (!NAME.test(name)) throw invalid(`${what} name must be 1-64 characters of letters, digits, . _ @ - (got "${name}")`);
}

/** Tokens look like `tg_<role initial>_<random>` so a leaked one is recognisable in scanners. */
export async function mintToken(tokens: Pick<TokenRepo, 'create'>, input: { name: string; role: Role; at: number }): Promise<{ token: string; record: ApiToken }> {
  checkName(input.name, 'token');
  if (!ROLES.includes(input.role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  const token = `tg_${input.role[0]}_${randomSecret(32)}`;
  const record = await tokens.create({ name: input.name, role: input.role, hash: sha256Hex(token), at: input.at });
  return { token, record };
}

export async function mintEnrollSecret(secrets: Pick<EnrollSecretRepo, 'create'>, input: { name: string; expiresAt: number | null; at: number; value?: string }): Promise<{ secret: string; record: EnrollSecret }> {
  checkName(input.name, 'enroll secret');
  const secret = input.value ?? randomSecret(32);
  if (secret.trim() !== secret || secret.length < 16) throw invalid('an enroll secret must be at least 16 characters without surrounding whitespace (osquery trims the file)');
  const record = await secrets.create({ name: input.name, hash: sha256Hex(secret), expiresAt: input.expiresAt, at: input.at });
  return { secret, record };
}
