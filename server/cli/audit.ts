/** `trustgate audit verify`: checks the audit log's hash chain; exit 1 and the first bad entry if it is broken. */
import { createAuditService } from '../audit/service.js';
import type { Config } from '../config/load.js';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import type { Args } from './args.js';
import { out, UsageError } from './command.js';
import { openStore } from './local.js';

export async function auditCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  if (a.positionals[1] !== 'verify') throw new UsageError('usage: trustgate audit verify');
  const store = openStore(cfg);
  try {
    const audit = createAuditService({ repo: store.audit, clock: systemClock, log: createLogger('silent') });
    const r = await audit.verify();
    if (a.bools.has('json')) out(JSON.stringify(r));
    else out(r.ok ? `Audit chain intact: ${r.count} entries.` : `Audit chain BROKEN at entry ${r.seq}: ${r.problem}`);
    return r.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
