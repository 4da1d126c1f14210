/**
 * The device commands that decide and act, on the server's state opened in-process: `verdict SERIAL
 * --resource R` (the decision and its reasons, with the signed remediation link the gateway API gives)
 * and `recheck SERIAL` (queued in the store; the running server delivers it within seconds). `hosts`
 * and `host SERIAL` are in hosts.ts.
 */
import type { Config } from '../config/load.js';
import type { Verdict } from '../domain/verdict.js';
import { systemClock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { table, type Args } from './args.js';
import { actor, need, out, terminalWidth, UsageError } from './command.js';
import { openLocal } from './local.js';

/** The verdict's first line: decision, device → resource, tier, mode, and what overrides it. */
function verdictHeadline(vd: Verdict, serial: string, resource: string): string {
  const mode = vd.enforced ? 'enforce' : 'monitor';
  const wouldDeny = vd.would_deny && vd.decision === 'allow' ? '  [would deny]' : '';
  const breakGlass = vd.break_glass ? `  [break glass ${vd.break_glass.id} until ${vd.break_glass.expires_at}]` : '';
  return `${vd.decision.toUpperCase()}  ${serial} → ${resource} (tier ${vd.tier}, ${mode})${wouldDeny}${breakGlass}`;
}

export async function verdictCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const resource = a.flags.resource;
  if (!resource) throw new UsageError('verdict needs --resource R');
  const local = await openLocal(cfg);
  try {
    const v = local.verdicts.verdict(serial, resource, a.flags.user ?? null, systemClock.now());
    if (v.kind === 'unknown_resource') {
      const known = Object.keys(local.model.policy().resources).join(', ');
      throw new AppError('not_found', `unknown resource "${resource}"; known: ${known}`);
    }
    const vd = v.verdict;
    if (a.bools.has('json')) out(JSON.stringify(vd, null, 2));
    else {
      out(verdictHeadline(vd, serial, resource));
      if (vd.data_age_seconds !== null) out(`data age: ${vd.data_age_seconds}s`);
      if (vd.remediation_page) out(`remediation page: ${vd.remediation_page}`);
      if (vd.reasons.length)
        out(
          `\n${table(
            ['CHECK', 'STATUS', 'TITLE', 'MESSAGE'],
            vd.reasons.map((r) => [r.check, r.status, r.title, r.message]),
            { width: terminalWidth(), mode: 'chars' },
          )}`,
        );
    }
    return a.bools.has('exit-code') && vd.decision === 'deny' ? 1 : 0;
  } finally {
    await local.store.close();
  }
}

export async function recheckCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const local = await openLocal(cfg);
  try {
    const r = await local.ops.recheck(serial, actor());
    if (a.bools.has('json')) out(JSON.stringify({ serial, queued: r.queued }));
    else
      out(
        r.queued.length
          ? `Queued ${r.queued.length} check(s) for ${serial}: ${r.queued.join(', ')}.\n` +
              'The agent gets them at its next distributed poll and then polls every 5 s until answered.'
          : `Nothing to recheck: every required check of ${serial} passes and is fresh.`,
      );
    return 0;
  } finally {
    await local.store.close();
  }
}
