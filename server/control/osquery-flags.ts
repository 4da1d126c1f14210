/**
 * The osqueryd flags for a server, from one source: osquery-examples/osquery.flags, printed as it is
 * with its three server-specific values filled in (the host and port agents connect to, the CA file that
 * signed the server certificate, the enroll secret file). `trustgate osquery-flags` prints them; the
 * first-start banner points to that command.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The template every flags file is filled from. */
export const OSQUERY_FLAGS_TEMPLATE = fileURLToPath(new URL('../../osquery-examples/osquery.flags', import.meta.url));

export interface OsqueryFlagValues {
  /** `host:port` agents connect to (`--tls_hostname`). */
  hostPort: string;
  /** The CA bundle (`--tls_server_certs`); the template's value is kept when undefined. */
  caFile: string | undefined;
  /** The enroll secret file (`--enroll_secret_path`). */
  secretFile: string;
}

/** `host:port` of a public URL, as `--tls_hostname` takes it (no port for https's own 443). */
export const tlsHostname = (publicUrl: string): string => new URL(publicUrl).host;

/** The template's text with the flags of `values` set; every other line as it is. */
export function fillOsqueryFlags(template: string, values: OsqueryFlagValues): string {
  const set: Record<string, string | undefined> = {
    '--tls_hostname': values.hostPort,
    '--tls_server_certs': values.caFile,
    '--enroll_secret_path': values.secretFile,
  };
  return template
    .split('\n')
    .map((line) => {
      const eq = line.indexOf('=');
      const name = eq > 0 ? line.slice(0, eq) : '';
      const value = set[name];
      return value === undefined ? line : `${name}=${value}`;
    })
    .join('\n');
}

/** The flags file filled in for a server. */
export function osqueryFlagsFor(values: OsqueryFlagValues): string {
  return fillOsqueryFlags(fs.readFileSync(OSQUERY_FLAGS_TEMPLATE, 'utf8'), values);
}
