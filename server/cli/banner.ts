/**
 * The first-start banner of `trustgate serve` (stderr, once): where the one-time secrets are, and the
 * next steps as commands that run as printed from the server's directory, with the server's settings
 * (those that differ from the defaults are exported first): a gateway token, simulated laptops, their
 * verdicts, and the request a gateway makes. Secrets are shown only on a terminal; otherwise the banner
 * names the 0600 file that holds them, so a service manager's journal never holds one.
 */
import { loadConfig, SETTING_DOCS, type Config } from '../config/load.js';

export interface BannerInput {
  /** True when the banner goes to a terminal (a person), not to a log. */
  terminal: boolean;
  adminToken: string | undefined;
  adminTokenFile: string | undefined;
  enrollSecretFile: string;
  /** The dev CA agents, browsers and curl trust (undefined with a certificate of your own). */
  caFile: string | undefined;
  publicUrl: string;
  /** A resource of the installed policy, for the example request. */
  resource: string | undefined;
  /** `NAME=value` of every setting the CLI must share with this server (see `sharedSettings`). */
  settings: readonly string[];
}

/** A shell word as it must be typed (single-quoted when it holds anything but plain characters). */
export const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

const SHARED: ReadonlyArray<keyof Config> = ['dataDir', 'packsDir', 'certsDir', 'publicUrl'];

/**
 * The settings a CLI command needs to act on this server that differ from the defaults (run from the
 * same directory): data, packs and certificates directories, and the public URL (the port when only
 * the port differs), as `TRUSTGATE_*=value`.
 */
export function sharedSettings(config: Readonly<Config>): string[] {
  const defaults = loadConfig({});
  const portOnly = config.publicUrl === `https://localhost:${config.port}` && config.port !== defaults.port;
  const out: string[] = [];
  for (const key of SHARED) {
    const doc = SETTING_DOCS.find((d) => d.key === key);
    if (!doc) continue;
    if (key === 'publicUrl' && portOnly) out.push(`TRUSTGATE_PORT=${config.port}`);
    else if (config[key] !== defaults[key]) out.push(`${doc.env}=${shellWord(String(config[key]))}`);
  }
  return out;
}

function secretLines(b: BannerInput): string[] {
  if (!b.adminToken) return ['│ (admin tokens already existed; none created)'];
  const file = b.adminTokenFile ?? 'the data directory';
  if (b.terminal) return [`│ Admin API token (stored only as a hash; also in ${file}, 0600):`, `│   ${b.adminToken}`];
  return [`│ Admin API token: in ${file} (0600, written once). Store it elsewhere, then delete the file.`];
}

function stepLines(b: BannerInput): string[] {
  const ca = b.caFile ? `--cacert ${shellWord(b.caFile)} ` : '';
  const url = `${b.publicUrl}/api/v1/verdict?serial=SERIAL&resource=${b.resource ?? 'RESOURCE'}&user=alice`;
  return [
    '│ Next steps, in another terminal in this directory:',
    ...(b.settings.length ? [`│   export ${b.settings.join(' ')}`] : []),
    '│ 1. A token for your gateway (nginx, Caddy, Traefik), shown once:',
    '│   npx trustgate token create --role gateway --name gateway',
    '│ 2. Simulated laptops (a real osqueryd takes the flags `npx trustgate osquery-flags` prints):',
    '│   npx trustgate simulate --hosts 20',
    '│ 3. Their decisions:',
    '│   npx trustgate hosts',
    '│ 4. What your gateway asks (TOKEN from step 1, SERIAL from step 3):',
    `│   curl ${ca}-H "Authorization: Bearer TOKEN" "${url}"`,
  ];
}

export function firstStartBanner(b: BannerInput): string {
  return [
    '',
    '┌─ Trustgate first start ───────────────────────────────────────────────',
    ...secretLines(b),
    `│ Enroll secret: ${b.enrollSecretFile}`,
    b.caFile
      ? `│ Dev CA (agents, browsers, curl --cacert): ${b.caFile}`
      : '│ TLS: using the provided server certificate',
    '│',
    ...stepLines(b),
    '└───────────────────────────────────────────────────────────────────────',
    '',
  ].join('\n');
}
