/**
 * `trustgate token …` and `trustgate secret …`: API tokens and enroll secrets, created (shown once),
 * listed (never their secrets) and revoked on the server's store, audited as the CLI's user.
 */
import { isoOf } from '../shared/clock.js';
import type { Role } from '../domain/types.js';
import type { Config } from '../config/load.js';
import { table, type Args } from './args.js';
import { actor, need, out, UsageError } from './command.js';
import { openCredentials } from './local.js';
import { openDeviceAdmin } from './device-admin.js';
import { createCredentials, type Credentials } from '../control/credentials.js';
import { systemClock } from '../shared/clock.js';

export async function tokenCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const sub = need(a, 1, 'token subcommand (create|revoke|list)');
  const { store, credentials } = openCredentials(cfg);
  try {
    if (sub === 'create') {
      const role = (a.flags.role ?? '') as Role;
      const name = a.flags.name ?? '';
      if (!role || !name) throw new UsageError('token create needs --role admin|gateway|viewer and --name NAME');
      const { token, record } = await credentials.createToken({ name, role }, actor());
      if (a.bools.has('json')) out(JSON.stringify({ token, id: record.id, name, role }));
      else out(`Token "${name}" (role ${role}, id ${record.id}) — shown once, store it now:\n${token}`);
      return 0;
    }
    if (sub === 'revoke') {
      const which = need(a, 2, 'token name or id');
      await credentials.revokeToken(which, actor());
      out(
        a.bools.has('json')
          ? JSON.stringify({ revoked: which })
          : `Revoked token ${which} (the server stops accepting it within 5 seconds).`,
      );
      return 0;
    }
    if (sub === 'list') {
      const list = await store.tokens.list();
      if (a.bools.has('json')) out(JSON.stringify(list));
      else
        out(
          table(
            ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED', 'LAST USED'],
            list.map((t) => [
              t.id,
              t.name,
              t.role,
              isoOf(t.createdAt),
              t.revokedAt ? isoOf(t.revokedAt) : '',
              t.lastUsedAt ? isoOf(t.lastUsedAt) : '',
            ]),
          ),
        );
      return 0;
    }
    throw new UsageError(`unknown token subcommand "${sub}"`);
  } finally {
    await store.close();
  }
}

/** `secret revoke NAME [--revoke-hosts]`: with the flag, the hosts enrolled with it are unenrolled too. */
async function revokeSecret(a: Args, cfg: Readonly<Config>, credentials: Credentials): Promise<number> {
  const name = need(a, 2, 'secret NAME');
  if (!a.bools.has('revoke-hosts')) {
    await credentials.revokeEnrollSecret(name, actor());
    out(
      a.bools.has('json')
        ? JSON.stringify({ revoked: name })
        : `Revoked enroll secret ${name}: new enrollments with it are refused; enrolled hosts keep their node keys.`,
    );
    return 0;
  }
  const admin = await openDeviceAdmin(cfg);
  try {
    const withHosts = createCredentials({
      tokens: admin.store.tokens,
      secrets: admin.store.secrets,
      audit: admin.audit,
      clock: systemClock,
      unenrollBySecret: admin.devices.service.unenrollBySecret,
    });
    const n = await withHosts.revokeEnrollSecret(name, actor(), { revokeHosts: true });
    out(
      a.bools.has('json')
        ? JSON.stringify({ revoked: name, hosts_unenrolled: n })
        : `Revoked enroll secret ${name} and unenrolled the ${n} host(s) enrolled with it ` +
            '(a running server applies it within 2 s).',
    );
    return 0;
  } finally {
    await admin.close();
  }
}

export async function secretCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const sub = need(a, 1, 'secret subcommand (create|list|revoke)');
  const { store, credentials } = openCredentials(cfg);
  try {
    if (sub === 'create') {
      const name = a.positionals[2] ?? a.flags.name;
      if (!name) throw new UsageError('secret create needs a NAME');
      const expiresIn = a.flags['expires-in'];
      const input = { name, ...(expiresIn ? { expiresIn } : {}), ...(a.flags.value ? { value: a.flags.value } : {}) };
      const { secret, record } = await credentials.createEnrollSecret(input, actor());
      const expiresAt = record.expiresAt;
      if (a.bools.has('json'))
        out(JSON.stringify({ name: record.name, secret, expires_at: expiresAt === null ? null : isoOf(expiresAt) }));
      else
        out(
          `Enroll secret "${name}"${expiresAt ? ` (expires ${isoOf(expiresAt)})` : ''} — shown once; ` +
            `put it in the agents' --enroll_secret_path file:\n${secret}`,
        );
      return 0;
    }
    if (sub === 'list') {
      const list = await store.secrets.list();
      if (a.bools.has('json')) out(JSON.stringify(list));
      else
        out(
          table(
            ['NAME', 'CREATED', 'EXPIRES', 'REVOKED'],
            list.map((s) => [
              s.name,
              isoOf(s.createdAt),
              s.expiresAt ? isoOf(s.expiresAt) : 'never',
              s.revokedAt ? isoOf(s.revokedAt) : '',
            ]),
          ),
        );
      return 0;
    }
    if (sub === 'revoke') return await revokeSecret(a, cfg, credentials);
    throw new UsageError(`unknown secret subcommand "${sub}"`);
  } finally {
    await store.close();
  }
}
