/**
 * The built-in queries that report who is logged in on a device (issue #13, the device's people, source
 * c): one per platform, served to every agent with the packs (a built-in pack, `trustgate-device-users`,
 * whatever the packs directory holds), as snapshots every 5 minutes. Their results name local accounts;
 * people.ts maps them to people. Checked against osquery 5.23.1's table schema in the tests.
 */
import type { LatestResult, Pack } from '../domain/types.js';

export const DEVICE_USERS_PACK = 'trustgate-device-users';

/** Seconds between runs: a new session shows up within this long (plus the agent's log period). */
export const DEVICE_USERS_INTERVAL = 300;

const QUERIES: Record<string, { platform: string; query: string; description: string }> = {
  // macOS: user sessions (utmpx) and the owner of /dev/console (the person at the screen)
  device_users_darwin: {
    platform: 'darwin',
    query:
      "SELECT user AS account, 'session' AS source FROM logged_in_users WHERE type = 'user' AND user != '' " +
      "UNION SELECT u.username AS account, 'console' AS source FROM file f JOIN users u ON u.uid = f.uid " +
      "WHERE f.path = '/dev/console' AND u.username != '';",
    description: 'Trustgate: local accounts logged in (sessions and the console user), for the device’s people.',
  },
  // Linux: user sessions (utmp)
  device_users_linux: {
    platform: 'linux',
    query:
      "SELECT DISTINCT user AS account, 'session' AS source FROM logged_in_users WHERE type = 'user' AND user != '';",
    description: 'Trustgate: local accounts logged in (sessions), for the device’s people.',
  },
  // Windows: sessions of the terminal services (console and remote), active or switched away from
  device_users_windows: {
    platform: 'windows',
    query:
      "SELECT DISTINCT user AS account, 'session' AS source FROM logged_in_users " +
      "WHERE type IN ('active', 'disconnected') AND user != '';",
    description: 'Trustgate: accounts with a Windows session, for the device’s people.',
  },
};

export const DEVICE_USERS_QUERIES: Readonly<Record<string, { platform: string; query: string }>> = QUERIES;

/** The built-in pack (served with the packs; a pack file of the same name is refused in its favour). */
export function deviceUsersPack(): Pack {
  const queries: Pack['queries'] = {};
  for (const [name, q] of Object.entries(QUERIES)) {
    queries[name] = { ...q, interval: DEVICE_USERS_INTERVAL, snapshot: true };
  }
  return { name: DEVICE_USERS_PACK, source: '(built-in)', queries };
}

/** The canonical query keys of the built-in queries (`<pack>/<query>`). */
export const DEVICE_USERS_KEYS: ReadonlySet<string> = new Set(
  Object.keys(DEVICE_USERS_QUERIES).map((q) => `${DEVICE_USERS_PACK}/${q}`),
);

/**
 * The accounts of a result of one of these queries (the `account` column); null for a failed run (the
 * accounts last reported stand until a run succeeds).
 */
export function accountsOf(result: Pick<LatestResult, 'rows' | 'error'>): string[] | null {
  if (result.error) return null;
  const out: string[] = [];
  for (const r of result.rows) {
    const a = r.account;
    if (typeof a === 'string' && a !== '') out.push(a);
  }
  return out;
}
