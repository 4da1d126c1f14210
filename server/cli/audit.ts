/**
 * `trustgate audit verify [--anchor <seq>:<hash>] [--json]`: checks the audit log's chain with the audit key
 * (every keyed entry's HMAC; legacy entries from before keying by SHA-256), and against a head saved
 * elsewhere (the `audit.head` log line or webhook message) so a cut tail or a rewrite is caught too.
 * Exit 1 and the first bad entry when it is broken.
 */
import { createAuditService } from '../audit/service.js';
import { parseAnchor } from '../audit/chain.js';
import { loadAuditKey } from '../audit/key.js';
import type { Config } from '../config/load.js';
import { systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import type { Args } from './args.js';
import { out, UsageError } from './command.js';
import { openStore } from './local.js';

export async function auditCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  if (a.positionals[1] !== 'verify') throw new UsageError('usage: trustgate audit verify [--anchor <seq>:<hash>]');
  const anchorText = a.flags.anchor;
  const anchor = anchorText === undefined ? undefined : parseAnchor(anchorText);
  if (anchorText !== undefined && !anchor)
    throw new UsageError('--anchor takes a published head, <seq>:<hash> (the audit.head log line or webhook)');
  const store = openStore(cfg);
  try {
    const key = loadAuditKey(cfg, { create: false });
    const audit = createAuditService({ repo: store.audit, clock: systemClock, log: createLogger('silent'), key });
    const r = await audit.verify(anchor);
    if (a.bools.has('json')) out(JSON.stringify(r));
    else if (!r.ok) out(`Audit chain BROKEN at entry ${r.seq}: ${r.problem}`);
    else {
      const legacy = r.legacy ? ` (${r.legacy} from before keying, checked by SHA-256 only)` : '';
      out(`Audit chain intact: ${r.count} entries${legacy}${anchor ? `, consistent with head ${anchor.seq}` : ''}.`);
    }
    return r.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
