/**
 * `trustgate osquery-flags`: the osqueryd flags for this server, exactly osquery-examples/osquery.flags
 * with its host and port (the public URL's), its CA file (the dev CA, when the server generated one)
 * and its enroll secret file filled in: `npx trustgate osquery-flags > /etc/osquery/osquery.flags`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { osqueryFlagsFor, tlsHostname } from '../control/osquery-flags.js';

export function osqueryFlagsCmd(cfg: Readonly<Config>): number {
  const ca = path.join(cfg.certsDir, 'ca.crt');
  process.stdout.write(
    osqueryFlagsFor({
      hostPort: tlsHostname(cfg.publicUrl),
      caFile: fs.existsSync(ca) ? ca : undefined,
      secretFile: path.join(cfg.dataDir, 'enroll_secret'),
    }),
  );
  return 0;
}
