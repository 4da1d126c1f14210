/**
 * `trustgate <command>`: the CLI (SPEC §8). It reads the same settings as the server (TRUSTGATE_* or
 * --flags), and acts on that server's data directory directly: tokens, secrets, hosts, verdicts,
 * rechecks (queued in the store; the running server delivers them within seconds), apply, audit.
 * Exit codes: 0 ok, 1 failure/refusal (e.g. deny with --exit-code, audit chain broken), 2 usage error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_FLAGS, SETTING_DOCS, loadConfig, type Config } from '../config/load.js';
import { AppError, errorMessage } from '../shared/errors.js';
import { isoOf, systemClock } from '../shared/clock.js';
import { createLogger } from '../shared/log.js';
import { createSqliteStore } from '../store/index.js';
import { createCredentials, type Credentials } from '../control/credentials.js';
import { createEvaluation } from '../control/evaluation.js';
import { createRuntimeModel, policyFileOf } from '../control/model.js';
import { createHostOperations } from '../control/operations.js';
import { createInProcessWork } from '../control/work.js';
import { createNodeKeyCache } from '../osquery/service.js';
import { createPostureEngine } from '../posture/engine.js';
import { createAuditService } from '../audit/service.js';
import { importFleetPolicies } from '../packs/fleet-import.js';
import { checkPlatform } from '../packs/platform.js';
import { parseArgs, table, type Args } from './args.js';
import type { Role } from '../domain/types.js';
import type { Store } from '../domain/ports.js';

const BOOL_FLAGS = new Set(['json', 'help', 'failing', 'dry-run', 'exit-code', 'force']);
const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

const HELP: Record<string, string> = {
  main: `trustgate — osquery fleet manager and device-posture verdicts

Usage: trustgate <command> [options]

Commands:
  serve                               run the server (HTTPS, osquery TLS API, gateway and admin APIs)
  token create --role R --name N      create an API token (admin|gateway|viewer); printed once
  token revoke NAME|ID                revoke a token
  token list                          list tokens (never their secrets)
  secret create NAME [--expires-in 30d] [--value V]   create an enroll secret; printed once
  secret list | secret revoke NAME    list or revoke enroll secrets
  hosts [--failing] [--platform P]    list enrolled hosts with their decisions
  host SERIAL                         one host: checks, decisions, recent status logs
  verdict SERIAL --resource R [--user U] [--exit-code]   the decision and its reasons
  recheck SERIAL                      queue the host's failing and stale checks (delivered with accelerate)
  apply DIR|FILE [--dry-run]          validate and install packs (*.json, *.conf) and policy.yaml
  import fleet FILE [--out F]         convert Fleet policy YAML into a pack of checks
  audit verify                        verify the audit log's hash chain
  simulate --hosts N --server URL     run simulated osquery agents (see --help)

Every command accepts --json (machine output) and the settings below (flag or env var):
${SETTING_DOCS.map((s) => `  ${s.flag.padEnd(24)} ${s.env.padEnd(32)} default ${String(s.default ?? '(derived)')}`).join('\n')}`,
};

class UsageError extends Error {}

function configOf(a: Args): Readonly<Config> {
  const flags: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.flags)) if (CONFIG_FLAGS.has(k)) flags[k] = v;
  return loadConfig(process.env, flags);
}

function need(a: Args, i: number, what: string): string {
  const v = a.positionals[i];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

const actor = () => `cli:${os.userInfo().username}`;

function openStore(cfg: Readonly<Config>): Store {
  if (!fs.existsSync(cfg.dbPath))
    throw new AppError(
      'not_found',
      `no Trustgate database at ${cfg.dbPath}: start the server once (npm start) or set TRUSTGATE_DATA_DIR`,
    );
  return createSqliteStore(cfg.dbPath, { durableFsync: cfg.durableFsync });
}

/**
 * An in-process view of the server's state (same pure engine, same data) for read commands. Work it
 * queues (recheck) goes to the store, where the running server picks it up within seconds.
 */
async function openLocal(cfg: Readonly<Config>) {
  const store = openStore(cfg);
  const clock = systemClock;
  const log = createLogger('silent');
  const audit = createAuditService({ repo: store.audit, clock, log });
  const engine = createPostureEngine({ clock, log });
  const evaluation = createEvaluation({
    engine,
    hosts: store.hosts,
    results: store.results,
    checkStates: store.checkStates,
    settings: store.settings,
    audit,
    clock,
    log,
  });
  const model = createRuntimeModel({
    packsDir: cfg.packsDir,
    engine,
    results: store.results,
    evaluation,
    compile: {},
    log,
  });
  await model.reload({ startup: true });
  const { hosts } = await evaluation.warmStart({ catchUp: false });
  const grants = await store.breakGlass.list({ status: 'active' });
  engine.setActiveGrants(grants.filter((g) => (g.expiresAt ?? 0) > clock.now()));
  const ops = createHostOperations({
    hosts: store.hosts,
    campaigns: store.distributed,
    engine,
    model,
    audit,
    clock,
    log,
    work: createInProcessWork({ distributed: store.distributed, log }),
    nodeKeys: createNodeKeyCache(clock),
  });
  return { store, engine, model, ops, audit, hosts };
}

/** Credentials on the server's store, audited as the CLI's user. */
function openCredentials(cfg: Readonly<Config>): { store: Store; credentials: Credentials } {
  const store = openStore(cfg);
  const audit = createAuditService({ repo: store.audit, clock: systemClock, log: createLogger('silent') });
  return {
    store,
    credentials: createCredentials({ tokens: store.tokens, secrets: store.secrets, audit, clock: systemClock }),
  };
}

async function tokenCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
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

async function secretCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
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
          `Enroll secret "${name}"${expiresAt ? ` (expires ${isoOf(expiresAt)})` : ''} — shown once; put it in the agents' --enroll_secret_path file:\n${secret}`,
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
    if (sub === 'revoke') {
      const name = need(a, 2, 'secret NAME');
      await credentials.revokeEnrollSecret(name, actor());
      out(
        a.bools.has('json')
          ? JSON.stringify({ revoked: name })
          : `Revoked enroll secret ${name}: new enrollments with it are refused; enrolled hosts keep their node keys.`,
      );
      return 0;
    }
    throw new UsageError(`unknown secret subcommand "${sub}"`);
  } finally {
    await store.close();
  }
}

async function hostsCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const local = await openLocal(cfg);
  try {
    const now = systemClock.now();
    const resources = Object.keys(local.model.policy().resources);
    let rows = local.hosts
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
    if (a.bools.has('json')) {
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
    } else {
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
    return 0;
  } finally {
    await local.store.close();
  }
}

async function hostCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const local = await openLocal(cfg);
  try {
    const hosts = local.hosts.filter((h) => h.serial === serial);
    if (!hosts.length) throw new AppError('not_found', `no host with serial "${serial}"`);
    const h = hosts[0]!;
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
    out(`${h.hostname}  serial ${h.serial}  ${h.platform} ${h.osName} ${h.osVersion}  osquery ${h.osqueryVersion}`);
    out(
      `enrolled ${isoOf(h.enrolledAt)}, last seen ${isoOf(h.lastSeenAt)}${h.serialConflict ? '  ⚠ serial reported by another device' : ''}\n`,
    );
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
    if (statuses.length)
      out(
        `\nRecent status logs:\n${statuses.map((s) => `  [${s.severity}] ${s.filename}:${s.line} ${s.message}`).join('\n')}`,
      );
    return 0;
  } finally {
    await local.store.close();
  }
}

async function verdictCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
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
      out(
        `${vd.decision.toUpperCase()}  ${serial} → ${resource} (tier ${vd.tier}, ${vd.enforced ? 'enforce' : 'monitor'})${vd.would_deny && vd.decision === 'allow' ? '  [would deny]' : ''}${vd.break_glass ? `  [break glass ${vd.break_glass.id} until ${vd.break_glass.expires_at}]` : ''}`,
      );
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

async function recheckCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const serial = need(a, 1, 'SERIAL');
  const local = await openLocal(cfg);
  try {
    const r = await local.ops.recheck(serial, actor());
    if (a.bools.has('json')) out(JSON.stringify({ serial, queued: r.queued }));
    else
      out(
        r.queued.length
          ? `Queued ${r.queued.length} check(s) for ${serial}: ${r.queued.join(', ')}.\nThe agent gets them at its next distributed poll and then polls every 5 s until answered.`
          : `Nothing to recheck: every required check of ${serial} passes and is fresh.`,
      );
    return 0;
  } finally {
    await local.store.close();
  }
}

async function applyCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const src = path.resolve(need(a, 1, 'DIR or FILE'));
  const { loadPackFile } = await import('../packs/load.js');
  const { mergePackResults } = await import('../packs/load.js');
  const { loadPolicy } = await import('../packs/policy.js');
  const files = fs.statSync(src).isDirectory()
    ? fs
        .readdirSync(src)
        .map((f) => path.join(src, f))
        .filter((f) => /\.(json|conf|ya?ml)$/.test(f))
    : [src];
  const isPolicy = (f: string) => /^policy\.(ya?ml|json)$/.test(path.basename(f));
  const packFiles = files.filter((f) => !isPolicy(f) && /\.(json|conf)$/.test(f));
  const policyFile = files.find(isPolicy);
  // the resulting pack set = current packs dir, with the applied files replacing same-named ones
  const current = fs.existsSync(cfg.packsDir)
    ? fs
        .readdirSync(cfg.packsDir)
        .map((f) => path.join(cfg.packsDir, f))
        .filter((f) => /\.(json|conf)$/.test(f) && !isPolicy(f))
    : [];
  const base = (f: string) => path.basename(f).replace(/\.(json|conf)$/, '');
  const applied = new Set(packFiles.map(base));
  const merged = mergePackResults(
    [...current.filter((f) => !applied.has(base(f))), ...packFiles].map((f) => loadPackFile(f)),
  );
  if (merged.errors.length) {
    for (const e of merged.errors) err(`refused: ${e.message}`);
    return 1;
  }
  const policyPath = policyFile ?? policyFileOf(cfg.packsDir);
  const policy = loadPolicy(
    policyPath,
    merged.checks.map((c) => c.id),
  );
  const local = fs.existsSync(cfg.dbPath) ? await openLocal(cfg) : undefined;
  try {
    const report = local?.engine.dryRun(policy, systemClock.now(), merged.checks, (c, h) =>
      checkPlatform(c.platform, h),
    );
    if (a.bools.has('dry-run')) {
      if (a.bools.has('json'))
        out(
          JSON.stringify({
            packs: merged.packs.map((p) => p.name),
            checks: merged.checks.length,
            impact: report ?? null,
          }),
        );
      else {
        out(
          `Valid: ${merged.packs.length} pack(s), ${merged.checks.length} check(s), policy ${path.basename(policyPath)} with tiers ${Object.keys(policy.tiers).join(', ')}.`,
        );
        if (report)
          for (const r of report.resources)
            out(
              `  ${r.resource}: ${r.newly_denied.length} newly denied${r.newly_denied.length ? ` (${r.newly_denied.slice(0, 10).join(', ')}${r.newly_denied.length > 10 ? ', …' : ''})` : ''}, ${r.newly_allowed.length} newly allowed`,
            );
        out('Dry run: nothing written.');
      }
      return 0;
    }
    fs.mkdirSync(cfg.packsDir, { recursive: true });
    for (const f of packFiles) {
      for (const ext of ['.json', '.conf']) {
        const existing = path.join(cfg.packsDir, `${base(f)}${ext}`);
        if (fs.existsSync(existing) && existing !== path.join(cfg.packsDir, path.basename(f))) fs.rmSync(existing);
      }
      if (path.resolve(f) !== path.join(cfg.packsDir, path.basename(f)))
        fs.copyFileSync(f, path.join(cfg.packsDir, path.basename(f)));
    }
    if (policyFile && path.resolve(policyFile) !== policyFileOf(cfg.packsDir))
      fs.copyFileSync(policyFile, policyFileOf(cfg.packsDir));
    if (local)
      await local.audit.record({
        type: 'admin.apply',
        actor: actor(),
        data: { packs: packFiles.map((f) => path.basename(f)), policy: policyFile ? path.basename(policyFile) : null },
      });
    out(
      a.bools.has('json')
        ? JSON.stringify({
            applied: packFiles.map((f) => path.basename(f)),
            policy: policyFile ? path.basename(policyFile) : null,
          })
        : `Applied ${packFiles.length} pack file(s)${policyFile ? ' and the policy' : ''} to ${cfg.packsDir}; the server reloads them within seconds.`,
    );
    return 0;
  } finally {
    await local?.store.close();
  }
}

async function importCmd(a: Args): Promise<number> {
  if (a.positionals[1] !== 'fleet') throw new UsageError('usage: trustgate import fleet FILE [--out F]');
  const file = need(a, 2, 'Fleet policy YAML FILE');
  const pack = importFleetPolicies(fs.readFileSync(file, 'utf8'));
  const { name: _n, source: _s, ...doc } = pack;
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (a.flags.out) {
    fs.writeFileSync(a.flags.out, text);
    err(`Wrote ${Object.keys(pack.queries).length} check(s) to ${a.flags.out}`);
  } else out(text);
  return 0;
}

async function auditCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
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

export async function main(argv: readonly string[]): Promise<number> {
  const a = parseArgs(argv, BOOL_FLAGS);
  const cmd = a.positionals[0];
  try {
    if (!cmd || cmd === 'help' || (a.bools.has('help') && cmd !== 'simulate')) {
      out(HELP.main!);
      return cmd || a.bools.has('help') ? 0 : 2;
    }
    if (cmd === 'simulate') {
      const { runSimulate } = await import('../sim/cli.js');
      // defaults from the same settings as the server: its URL, enroll secret and dev CA
      const cfg = loadConfig(process.env);
      return await runSimulate(argv.slice(1), {
        server: cfg.publicUrl,
        secretFile: path.join(cfg.dataDir, 'enroll_secret'),
        caFile: path.join(cfg.certsDir, 'ca.crt'),
      });
    }
    if (cmd === 'serve') {
      const { serve } = await import('./serve.js');
      return await serve(configOf(a));
    }
    if (cmd === 'import') return await importCmd(a);
    const cfg = configOf(a);
    switch (cmd) {
      case 'token':
        return await tokenCmd(a, cfg);
      case 'secret':
        return await secretCmd(a, cfg);
      case 'hosts':
        return await hostsCmd(a, cfg);
      case 'host':
        return await hostCmd(a, cfg);
      case 'verdict':
        return await verdictCmd(a, cfg);
      case 'recheck':
        return await recheckCmd(a, cfg);
      case 'apply':
        return await applyCmd(a, cfg);
      case 'audit':
        return await auditCmd(a, cfg);
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`trustgate: ${e.message}\nRun "trustgate --help" for usage.`);
      return 2;
    }
    err(`trustgate: ${e instanceof AppError ? e.message : errorMessage(e)}`);
    return 1;
  }
}
