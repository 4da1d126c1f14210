/**
 * `trustgate hosts` (every host with its decisions) and `trustgate host SERIAL` (one host: decisions,
 * every check, recent status logs), read from the server's state opened in-process. `--json` prints the
 * admin API's own shape (admin/host-json.ts): `hosts --json` is GET /api/v1/hosts's `hosts`, `host
 * SERIAL --json` is GET /api/v1/hosts/:serial. Tables fit the terminal's width.
 */
import type { Config } from '../config/load.js';
import {
  hostDetail,
  hostListEntry,
  type HostDetail,
  type HostListEntry,
  type HostReadDeps,
} from '../admin/host-json.js';
import { createHostSummary } from '../control/summary.js';
import { systemClock } from '../shared/clock.js';
import { table, type Args } from './args.js';
import { need, out, terminalWidth } from './command.js';
import { openLocal } from './local.js';

type Local = Awaited<ReturnType<typeof openLocal>>;

function readDeps(local: Local): HostReadDeps {
  return {
    hosts: local.store.hosts,
    results: local.store.results,
    checkStates: (id) => local.store.checkStates.forHost(id),
    summary: createHostSummary({ engine: local.engine, model: local.model }),
    checks: () => local.model.checks(),
    lastSeen: (h) => local.lastSeen.of(h),
  };
}

/** The check ids that keep each resource from allowing (or would, in monitor mode), once each. */
function failingChecks(e: Pick<HostListEntry, 'decisions'>): string {
  const ids = new Set(Object.values(e.decisions).flatMap((d) => (d.would_deny ? d.reasons : [])));
  return [...ids].join(' ');
}

function printHostsTable(rows: readonly HostListEntry[]): void {
  out(
    table(
      ['SERIAL', 'HOSTNAME', 'PLATFORM', 'OS', 'LAST SEEN', 'STATUS', 'FAILING CHECKS'],
      rows.map((r) => [
        r.serial,
        r.hostname,
        r.platform,
        r.os_version,
        r.last_seen_at,
        r.failing ? 'FAILING' : 'ok',
        failingChecks(r),
      ]),
      { width: terminalWidth(), mode: 'words' },
    ),
  );
  out(`${rows.length} host(s)`);
}

export async function hostsCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const local = await openLocal(cfg);
  try {
    const deps = readDeps(local);
    const now = systemClock.now();
    let rows = local.hosts
      .filter((h) => !a.flags.platform || h.platform === a.flags.platform)
      .map((h) => hostListEntry(deps, h, now));
    if (a.bools.has('failing')) rows = rows.filter((r) => r.failing);
    if (a.bools.has('json')) out(JSON.stringify(rows));
    else printHostsTable(rows);
    return 0;
  } finally {
    await local.store.close();
  }
}

const decisionWord = (d: { decision: string; would_deny: boolean }): string =>
  d.decision === 'allow' && d.would_deny ? 'allow (would deny)' : d.decision;

function printHost(h: HostDetail, others: number): void {
  const conflict = h.serial_conflict ? `  ⚠ serial reported by ${others || 'another'} other device(s)` : '';
  out(`${h.hostname}  serial ${h.serial}  ${h.platform} ${h.os_name} ${h.os_version}  osquery ${h.osquery_version}`);
  out(`enrolled ${h.enrolled_at}, last seen ${h.last_seen_at}${conflict}\n`);
  const width = terminalWidth();
  const decisions = Object.entries(h.decisions);
  out(
    table(
      ['RESOURCE', 'DECISION', 'REASONS'],
      decisions.map(([name, d]) => [name, decisionWord(d), d.reasons.join(' ')]),
      { width, mode: 'words' },
    ),
  );
  out('');
  out(
    table(
      ['CHECK', 'STATUS', 'OBSERVED', 'MESSAGE'],
      h.checks.map((c) => [c.check, c.status, c.observed_at ?? '', c.message ?? c.error ?? '']),
      { width, mode: 'chars' },
    ),
  );
  const logs = h.status_logs.slice(0, 10);
  if (logs.length) {
    const lines = logs.map((s) => `  [${s.severity}] ${s.filename}:${s.line} ${s.message}`);
    out(`\nRecent status logs:\n${lines.join('\n')}`);
  }
}

export async function hostCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const local = await openLocal(cfg);
  try {
    const detail = await hostDetail(readDeps(local), serial, systemClock.now());
    if (a.bools.has('json')) out(JSON.stringify(detail));
    else printHost(detail.host, (detail.conflicting_hosts?.length ?? 1) - 1);
    return 0;
  } finally {
    await local.store.close();
  }
}
