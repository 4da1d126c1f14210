/**
 * The device commands, read from the server's state opened in-process: `trustgate hosts` (every host
 * with its decisions), `host SERIAL` (checks and recent status logs), `verdict SERIAL --resource R`
 * (the decision and its reasons) and `recheck SERIAL` (queued in the store; the running server
 * delivers it within seconds).
 */
import type { Config } from '../config/load.js';
import type { Host } from '../domain/types.js';
import type { Verdict } from '../domain/verdict.js';
import { isoOf, systemClock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { table, type Args } from './args.js';
import { actor, need, out, UsageError } from './command.js';
import { openLocal } from './local.js';

interface HostRow {
  h: Host;
  decisions: Record<string, Verdict | undefined>;
  failing: boolean;
}

function printHostsJson(rows: readonly HostRow[]): void {
  out(
    JSON.stringify(
      rows.map((r) => ({
        serial: r.h.serial,
        hostname: r.h.hostname,
        platform: r.h.platform,
        os_version: r.h.osVersion,
        last_seen_at: isoOf(r.h.lastSeenAt),
        failing: r.failing,
        decisions: Object.fromEntries(
          Object.entries(r.decisions).map(([k, v]) => [
            k,
            v ? { decision: v.decision, would_deny: v.would_deny, reasons: v.reasons.map((x) => x.check) } : null,
          ]),
        ),
      })),
    ),
  );
}

function printHostsTable(rows: readonly HostRow[]): void {
  out(
    table(
      ['SERIAL', 'HOSTNAME', 'PLATFORM', 'OS', 'LAST SEEN', 'STATUS', 'FAILING CHECKS'],
      rows.map((r) => {
        const reasons = new Set(
          Object.values(r.decisions).flatMap((v) =>
            v?.would_deny ? v.reasons.map((x) => `${x.check}(${x.status})`) : [],
          ),
        );
        return [
          r.h.serial,
          r.h.hostname,
          r.h.platform,
          r.h.osVersion,
          isoOf(r.h.lastSeenAt),
          r.failing ? 'FAILING' : 'ok',
          [...reasons].join(' '),
        ];
      }),
    ),
  );
  out(`${rows.length} host(s)`);
}

export async function hostsCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const local = await openLocal(cfg);
  try {
    const now = systemClock.now();
    const resources = Object.keys(local.model.policy().resources);
    let rows: HostRow[] = local.hosts
      .filter((h) => !a.flags.platform || h.platform === a.flags.platform)
      .map((h) => {
        const decisions = Object.fromEntries(
          resources.map((r) => {
            const v = local.engine.verdict(h.serial, r, null, now);
            return [r, v.kind === 'verdict' ? v.verdict : undefined];
          }),
        );
        const failing = Object.values(decisions).some((v) => v?.would_deny);
        return { h, decisions, failing };
      });
    if (a.bools.has('failing')) rows = rows.filter((r) => r.failing);
    if (a.bools.has('json')) printHostsJson(rows);
    else printHostsTable(rows);
    return 0;
  } finally {
    await local.store.close();
  }
}

export async function hostCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const local = await openLocal(cfg);
  try {
    const hosts = local.hosts.filter((h) => h.serial === serial);
    const h = hosts[0];
    if (!h) throw new AppError('not_found', `no host with serial "${serial}"`);
    const states = await local.store.checkStates.forHost(h.id);
    const statuses = await local.store.results.statusLogs(h.id, 10);
    if (a.bools.has('json')) {
      out(
        JSON.stringify({
          host: h,
          conflicting_hosts: hosts.length > 1 ? hosts : undefined,
          checks: states,
          status_logs: statuses,
        }),
      );
      return 0;
    }
    const conflict = h.serialConflict ? '  ⚠ serial reported by another device' : '';
    out(`${h.hostname}  serial ${h.serial}  ${h.platform} ${h.osName} ${h.osVersion}  osquery ${h.osqueryVersion}`);
    out(`enrolled ${isoOf(h.enrolledAt)}, last seen ${isoOf(h.lastSeenAt)}${conflict}\n`);
    out(
      table(
        ['CHECK', 'STATUS', 'OBSERVED', 'MESSAGE'],
        states.map((s) => [
          s.checkId,
          s.status,
          s.observedAt ? isoOf(s.observedAt) : '',
          s.status === 'pass' ? '' : s.message,
        ]),
      ),
    );
    if (statuses.length) {
      const lines = statuses.map((s) => `  [${s.severity}] ${s.filename}:${s.line} ${s.message}`);
      out(`\nRecent status logs:\n${lines.join('\n')}`);
    }
    return 0;
  } finally {
    await local.store.close();
  }
}

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
    const v = local.engine.verdict(serial, resource, a.flags.user ?? null, systemClock.now());
    if (v.kind === 'unknown_resource') {
      const known = Object.keys(local.model.policy().resources).join(', ');
      throw new AppError('not_found', `unknown resource "${resource}"; known: ${known}`);
    }
    const vd = v.verdict;
    if (a.bools.has('json')) out(JSON.stringify(vd, null, 2));
    else {
      out(verdictHeadline(vd, serial, resource));
      if (vd.data_age_seconds !== null) out(`data age: ${vd.data_age_seconds}s`);
      if (vd.reasons.length)
        out(
          `\n${table(
            ['CHECK', 'STATUS', 'TITLE', 'MESSAGE'],
            vd.reasons.map((r) => [r.check, r.status, r.title, r.message]),
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
