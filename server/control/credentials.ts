/**
 * API tokens and enroll secrets: minted here (shown once), stored only as SHA-256 hashes, and the one
 * place that creates or revokes them with their audit entry (used by the admin API and the CLI). First
 * start mints without the service (bootstrap audits its own event).
 */
import type { AuditRecorder, EnrollSecretRepo, TokenRepo } from '../domain/ports.js';
import type { ApiToken, EnrollSecret, Role } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { randomSecret, sha256Hex } from '../shared/crypto.js';
import { parseDuration } from '../shared/duration.js';
import { invalid, notFound } from '../shared/errors.js';

export const ROLES: readonly Role[] = ['admin', 'gateway', 'viewer'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkName(name: string, what: string): void {
  if (!NAME.test(name)) {
    throw invalid(`${what} name must be 1-64 characters of letters, digits, . _ @ - (got "${name}")`);
  }
}

/** Tokens look like `tg_<role initial>_<random>` so a leaked one is recognisable in scanners. */
export async function mintToken(
  tokens: Pick<TokenRepo, 'create'>,
  input: { name: string; role: Role; at: number },
): Promise<{ token: string; record: ApiToken }> {
  checkName(input.name, 'token');
  if (!ROLES.includes(input.role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  const token = `tg_${input.role[0]}_${randomSecret(32)}`;
  const record = await tokens.create({ name: input.name, role: input.role, hash: sha256Hex(token), at: input.at });
  return { token, record };
}

export async function mintEnrollSecret(
  secrets: Pick<EnrollSecretRepo, 'create'>,
  input: { name: string; expiresAt: number | null; at: number; value?: string },
): Promise<{ secret: string; record: EnrollSecret }> {
  checkName(input.name, 'enroll secret');
  const secret = input.value ?? randomSecret(32);
  if (secret.trim() !== secret || secret.length < 16) {
    throw invalid(
      'an enroll secret must be at least 16 characters without surrounding whitespace (osquery trims the file)',
    );
  }
  const { name, expiresAt, at } = input;
  const record = await secrets.create({ name, hash: sha256Hex(secret), expiresAt, at });
  return { secret, record };
}

export interface CredentialDeps {
  tokens: Pick<TokenRepo, 'create' | 'revoke'>;
  secrets: Pick<EnrollSecretRepo, 'create' | 'revoke'>;
  audit: Pick<AuditRecorder, 'record'>;
  clock: Clock;
  /** Told right after a token is revoked (the server's token cache drops it at once). */
  tokenRevoked?(): void;
  /** Unenrolls the hosts whose latest enrollment used a secret (revoke with `revokeHosts`); how many. */
  unenrollBySecret?(name: string, actor: string): Promise<number>;
}

/** Create and revoke credentials, each audited with its actor. Revoking an unknown one is `not_found`. */
export interface Credentials {
  /** A new API token; the plain token is returned once and never stored. */
  createToken(input: { name: string; role: Role }, actor: string): Promise<{ token: string; record: ApiToken }>;
  revokeToken(nameOrId: string, actor: string): Promise<void>;
  /** A new enroll secret (random unless `value` is given), expiring after `expiresIn` (`30d`) if given. */
  createEnrollSecret(
    input: { name: string; expiresIn?: string; value?: string },
    actor: string,
  ): Promise<{ secret: string; record: EnrollSecret }>;
  /**
   * Revokes an enroll secret: new enrollments with it are refused. With `revokeHosts`, the hosts whose
   * latest enrollment used it are unenrolled too (their node keys stop working); returns how many.
   */
  revokeEnrollSecret(name: string, actor: string, opts?: { revokeHosts?: boolean }): Promise<number>;
}

export function createCredentials(deps: CredentialDeps): Credentials {
  const { audit, clock } = deps;
  return {
    async createToken(input, actor) {
      const minted = await mintToken(deps.tokens, { ...input, at: clock.now() });
      const { id, name, role } = minted.record;
      await audit.record({ type: 'admin.token.created', actor, data: { id, name, role } });
      return minted;
    },
    async revokeToken(nameOrId, actor) {
      if (!(await deps.tokens.revoke(nameOrId, clock.now()))) throw notFound(`active token "${nameOrId}"`);
      deps.tokenRevoked?.();
      await audit.record({ type: 'admin.token.revoked', actor, data: { token: nameOrId } });
    },
    async createEnrollSecret(input, actor) {
      const at = clock.now();
      const expiresAt = input.expiresIn ? at + parseDuration(input.expiresIn) : null;
      const minted = await mintEnrollSecret(deps.secrets, {
        name: input.name,
        expiresAt,
        at,
        ...(input.value !== undefined ? { value: input.value } : {}),
      });
      const { name, expiresAt: expires } = minted.record;
      await audit.record({ type: 'admin.secret.created', actor, data: { name, expires_at: expires } });
      return minted;
    },
    async revokeEnrollSecret(name, actor, opts = {}) {
      if (opts.revokeHosts && !deps.unenrollBySecret) throw invalid('unenrolling hosts is not available here');
      if (!(await deps.secrets.revoke(name, clock.now()))) throw notFound(`active enroll secret "${name}"`);
      const hosts = opts.revokeHosts && deps.unenrollBySecret ? await deps.unenrollBySecret(name, actor) : 0;
      await audit.record({
        type: 'admin.secret.revoked',
        actor,
        data: { name, ...(opts.revokeHosts ? { hosts_unenrolled: hosts } : {}) },
      });
      return hosts;
    },
  };
}
