/**
 * The control plane: what the server currently believes about packs and policy, and the operations
 * that span several modules (reload, recheck, live query, unenroll). Built once in main.ts; the admin,
 * people and osquery surfaces receive narrow slices of it.
 *
 * Data path it anchors: results (osquery) → onResults → posture engine → changed check states
 * (persisted write-behind) + decision transitions (audited).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { AuditRecorder, Store } from '../domain/ports.js';
import type { CheckDef, CheckState, Host, LatestResult, Pack, Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { AppError, conflict, invalid, notFound } from '../shared/errors.js';
import { randomId } from '../shared/crypto.js';
import { loadPacksDir, mergePackResults } from '../packs/load.js';
import { parsePackText } from '../packs/parse.js';
import { compileConfig, createQueryResolver, type QueryResolver, type CompileOptions } from '../packs/compile.js';
import { checkPlatform } from '../packs/platform.js';
import { loadPolicy, parsePolicy } from '../packs/policy.js';
import type { PackLoadError } from '../packs/errors.js';
import type { PostureEngine } from '../posture/engine.js';

export interface ControlDeps {
  packsDir: string;
  store: Store;
  engine: PostureEngine;
  audit: Pick<AuditRecorder, 'record' | 'decisionChanged'>;
  clock: Clock;
  log: Logger;
  compile: CompileOptions;
  /** Tells the osquery surface a host has queued distributed queries. */
  notePending(hostId: number): void;
  /** Drops a cached node key (unenroll). */
  invalidateNodeKey(hash: string): void;
}

/** The policy file of a packs dir: policy.yaml, or policy.json when only that exists. */
export function policyFileOf(packsDir: string): string {
  for (const name of ['policy.yaml', 'policy.yml', 'policy.json']) {
    const f = path.join(packsDir, name);
    if (fs.existsSync(f)) return f;
  }
  return path.join(packsDir, 'policy.yaml');
}

const WATERMARK = 'check_states_persisted_until';
const CATCH_UP_MARGIN_MS = 60_000;

const applies = (c: CheckDef, h: Pick<Host, 'platform' | 'osPlatform'>) => checkPlatform(c.platform, h);
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function createControlPlane(deps: ControlDeps) {
  const { store, engine, clock, log } = deps;
  let packs: Pack[] = [];
  let checks: CheckDef[] = [];
  let resolver: QueryResolver = createQueryResolver([]);
  let policy: Policy | undefined;
  let configCache = new Map<string, string>();
  let hostRules = new Map<string, string>();
  let lastErrors: PackLoadError[] = [];

  // write-behind persistence of check states: coalesced, one transaction per flush
  let pendingStates = new Map<string, CheckState>();
  let flushTimer: NodeJS.Timeout | undefined;
  // Watermark: every result stored before it has its check states persisted. A restart re-evaluates only
  // results newer than the watermark (minus a margin for batches committed while a flush ran).
  let pendingSince: number | undefined;
  async function flushStates(): Promise<void> {
    flushTimer = undefined;
    if (!pendingStates.size) return;
    const batch = [...pendingStates.values()];
    const since = pendingSince ?? clock.now();
    pendingStates = new Map();
    pendingSince = undefined;
    try {
      await store.checkStates.putMany(batch);
      await store.settings.set(WATERMARK, String(pendingSince ?? clock.now()));
    } catch (e) {
      log.error({ event: 'check_states.persist_failed', err: e, count: batch.length }, 'could not persist check states; they are recomputed from results at restart');
      pendingSince = Math.min(pendingSince ?? since, since);
    }
  }

  /**
   * Warm start: packs + policy, then every host with its persisted check states, then (with `catchUp`)
   * re-evaluation of the results stored after the last persisted states — a crash gap of at most a few
   * hundred milliseconds — instead of re-evaluating everything.
   */
  async function warmStart(opts: { catchUp: boolean }): Promise<{ hosts: Host[]; caughtUp: number }> {
    await reload({ startup: true });
    const ids = engine.checks().map((c) => c.id);
    const [hosts, states] = await Promise.all([store.hosts.list(), store.checkStates.columns(ids)]);
    engine.loadHosts(hosts, states, ids);
    return { hosts, caughtUp: opts.catchUp ? await catchUp(hosts) : 0 };
  }

  /** Startup: re-evaluates results stored after the last persisted check states (crash gap). */
  async function catchUp(known?: readonly Host[]): Promise<number> {
    const mark = Number((await store.settings.get(WATERMARK)) ?? 0);
    const latest = await store.results.latestSince(Math.max(0, mark - CATCH_UP_MARGIN_MS), checks.map((c) => `${c.pack}/${c.id}`));
    await refeed(latest, known);
    return latest.length;
  }

  function onResults(host: Host, latest: readonly LatestResult[]): void {
    const out = engine.onResults(host, latest);
    if (out.changed.length && pendingSince === undefined) pendingSince = clock.now();
    for (const s of out.changed) pendingStates.set(`${s.hostId}\u0000${s.checkId}`, s);
    if (out.changed.length && !flushTimer) flushTimer = setTimeout(() => void flushStates(), 200);
    for (const t of out.transitions) {
      log.info({ event: 'verdict.changed', serial: t.serial, tier: t.tier, from: t.from, to: t.to, reasons: t.reasons }, 'device decision changed');
      deps.audit.decisionChanged({ serial: t.serial, tier: t.tier, from: t.from, to: t.to, reasons: t.reasons });
    }
  }

  function logLoadProblems(errors: PackLoadError[], warnings: PackLoadError[]): void {
    for (const e of errors) log.error({ event: 'packs.refused', file: e.file, location: e.location, problem: e.problem }, e.message);
    for (const w of warnings) log.warn({ event: 'packs.warning', file: w.file, location: w.location, problem: w.problem }, w.message);
  }

  /**
   * Re-evaluates stored latest results through the engine, per host. Hosts come from `known` (the warm
   * start's list) or one read of every host.
   */
  async function refeed(latest: readonly LatestResult[], known?: readonly Host[]): Promise<void> {
    if (!latest.length) return;
    const byHost = new Map<number, LatestResult[]>();
    for (const l of latest) {
      const list = byHost.get(l.hostId);
      if (list) list.push(l);
      else byHost.set(l.hostId, [l]);
    }
    const hosts = new Map<number, Host>();
    for (const h of known ?? (await store.hosts.list())) if (byHost.has(h.id)) hosts.set(h.id, h);
    for (const [hostId, ls] of byHost) {
      const host = hosts.get(hostId);
      if (host) onResults(host, ls);
    }
  }

  /**
   * Applies a loaded pack set + policy: swaps engine state and re-evaluates changed checks. At startup
   * (`reevaluate: false`) the stored check states are loaded instead and only results newer than the
   * last persisted states are re-evaluated (see `catchUp`).
   */
  async function install(nextPacks: Pack[], nextChecks: CheckDef[], nextPolicy: Policy, reevaluate = true): Promise<void> {
    packs = nextPacks;
    checks = nextChecks;
    resolver = createQueryResolver(packs);
    policy = nextPolicy;
    configCache = new Map();
    hostRules = new Map();
    for (const r of Object.values(nextPolicy.resources)) for (const h of r.hosts) hostRules.set(h.toLowerCase(), r.name);
    const swap = engine.setPolicy(nextPolicy, nextChecks, applies);
    if (reevaluate && swap.reevaluate.length) await refeed(await store.results.latestForQueries(swap.reevaluate.map((r) => r.queryKey)));
  }

  function policyFile(): string {
    return policyFileOf(deps.packsDir);
  }

  async function reload(opts: { startup?: boolean } = {}): Promise<{ errors: PackLoadError[] }> {
    const loaded = loadPacksDir(deps.packsDir);
    logLoadProblems(loaded.errors, loaded.warnings);
    let nextPolicy: Policy;
    try {
      nextPolicy = loadPolicy(policyFile(), loaded.checks.map((c) => c.id));
    } catch (e) {
      log.error({ event: 'policy.refused', file: policyFile(), problem: e instanceof Error ? e.message : String(e) }, 'policy refused; keeping the last good policy');
      if (!policy) throw e;
      nextPolicy = policy;
    }
    await install(loaded.packs, loaded.checks, nextPolicy, !opts.startup);
    lastErrors = loaded.errors;
    log.info({ event: 'packs.loaded', packs: packs.length, checks: checks.length, refused: loaded.errors.length, tiers: Object.keys(nextPolicy.tiers), resources: Object.keys(nextPolicy.resources) }, 'packs and policy loaded');
    return { errors: loaded.errors };
  }

  function packFiles(name: string): string[] {
    return ['.json', '.conf'].map((ext) => path.join(deps.packsDir, `${name}${ext}`)).filter((f) => fs.existsSync(f));
  }

  const configFor = (host: Host): string => {
    const key = `${host.platform}\u0000${host.osPlatform}`;
    let text = configCache.get(key);
    if (text === undefined) {
      text = JSON.stringify({ ...compileConfig(host, packs, deps.compile), node_invalid: false });
      configCache.set(key, text);
    }
    return text;
  };

  async function recheck(serial: string, actor: string): Promise<{ queued: string[] }> {
    const hosts = await store.hosts.findBySerial(serial);
    if (!hosts.length) throw notFound(`host with serial "${serial}"`);
    const now = clock.now();
    const ids = engine.failingOrStaleChecks(serial, now);
    const defs = ids.map((id) => checks.find((c) => c.id === id)).filter((c): c is CheckDef => c !== undefined);
    const items = hosts.flatMap((h) => defs.filter((d) => applies(d, h)).map((d) => ({
      id: `tg_recheck_${d.id}_${randomId(6)}`, hostId: h.id, sql: d.sql, kind: 'recheck' as const, ref: d.id, createdAt: now,
    })));
    await store.distributed.enqueue(items);
    for (const h of hosts) deps.notePending(h.id);
    log.info({ event: 'host.recheck', serial, actor, checks: defs.map((d) => d.id) }, 'recheck queued');
    await deps.audit.record({ type: 'host.recheck', actor, serial, data: { checks: defs.map((d) => d.id) } });
    return { queued: [...new Set(items.map((i) => i.ref))] };
  }

  return {
    reload,
    warmStart,
    onResults,
    flushStates,
    configFor,
    recheck,
    queryKeyOf: (name: string): string => resolver.queryKeyOf(name) ?? name,
    checkQueryKey: (id: string): string | undefined => resolver.queryKeyOfCheck(id),
    resourceForHost: (host: string): string | undefined => hostRules.get(host),
    checks: (): readonly CheckDef[] => checks,
    policy: (): Policy | undefined => policy,
    lastErrors: (): PackLoadError[] => lastErrors,

    packs: {
      list: () => packs.map((p) => ({ name: p.name, source: path.basename(p.source), queries: Object.keys(p.queries).length, checks: Object.entries(p.queries).filter(([, q]) => q.check).map(([n]) => n) })),
      get: (name: string): unknown => {
        const p = packs.find((x) => x.name === name);
        if (!p) return undefined;
        const { source: _s, name: _n, ...doc } = p;
        return doc;
      },
      async put(name: string, text: string, actor: string): Promise<{ checks: string[] }> {
        if (!SAFE_NAME.test(name) || name === 'policy') throw invalid(`pack name must be letters, digits, . _ - (and not "policy"): "${name}"`);
        const file = path.join(deps.packsDir, `${name}.json`);
        const parsed = parsePackText(name, text, file);
        const others = packFiles(name).length ? packs.filter((p) => p.name !== name) : packs;
        const merged = mergePackResults([{ packs: others, checks: checks.filter((c) => others.some((o) => o.name === c.pack)), errors: [], warnings: [] }, parsed]);
        if (parsed.errors.length || merged.errors.length) throw new AppError('invalid', `pack refused: ${[...parsed.errors, ...merged.errors].map((e) => e.message).join('; ')}`, [...parsed.errors, ...merged.errors]);
        const p = policy;
        if (p) {
          const ids = new Set(merged.checks.map((c) => c.id));
          const missing = Object.values(p.tiers).flatMap((t) => t.checks.filter((c) => !ids.has(c)).map((c) => `${t.name}:${c}`));
          if (missing.length) throw conflict(`the policy requires checks this change would remove: ${missing.join(', ')}`);
        }
        for (const f of packFiles(name)) if (f !== file) fs.rmSync(f);
        fs.writeFileSync(file, `${text}\n`);
        await install(merged.packs, merged.checks, p ?? loadPolicy(policyFile(), merged.checks.map((c) => c.id)));
        await deps.audit.record({ type: 'admin.pack.put', actor, data: { name, checks: parsed.checks.map((c) => c.id) } });
        return { checks: parsed.checks.map((c) => c.id) };
      },
      async remove(name: string, actor: string): Promise<void> {
        const files = packFiles(name);
        if (!files.length || !packs.some((p) => p.name === name)) throw notFound(`pack "${name}"`);
        const removed = new Set(checks.filter((c) => c.pack === name).map((c) => c.id));
        const needed = policy ? Object.values(policy.tiers).flatMap((t) => t.checks.filter((c) => removed.has(c))) : [];
        if (needed.length) throw conflict(`the policy requires checks from this pack: ${needed.join(', ')}; change the policy first`);
        for (const f of files) fs.rmSync(f);
        const rest = packs.filter((p) => p.name !== name);
        await install(rest, checks.filter((c) => c.pack !== name), policy!);
        await deps.audit.record({ type: 'admin.pack.deleted', actor, data: { name } });
      },
    },

    policyApi: {
      get: (): unknown => policy?.source ?? null,
      async put(text: string, format: 'yaml' | 'json', actor: string): Promise<void> {
        const file = policyFile();
        const next = parsePolicy(text, format, checks.map((c) => c.id), file);
        const out = file.endsWith('.json') ? JSON.stringify(next.source, null, 2) : format === 'yaml' ? text : YAML.stringify(next.source);
        fs.writeFileSync(file, out.endsWith('\n') ? out : `${out}\n`);
        const before = policy?.source ?? null;
        await install(packs, checks, next);
        await deps.audit.record({ type: 'admin.policy.put', actor, data: { before, after: next.source } });
      },
      dryRun(text: string, format: 'yaml' | 'json'): unknown {
        const next = parsePolicy(text, format, checks.map((c) => c.id), 'proposed policy');
        return engine.dryRun(next, clock.now());
      },
    },

    async liveQuery(input: { sql: string; serials?: string[]; platform?: string }, actor: string): Promise<{ id: string; hosts: number }> {
      let targets: Host[];
      if (input.serials?.length) targets = (await Promise.all(input.serials.map((s) => store.hosts.findBySerial(s)))).flat();
      else targets = await store.hosts.list(input.platform ? { platform: input.platform } : {});
      if (!targets.length) throw notFound('matching hosts');
      const id = `tg_live_${randomId(8)}`;
      const now = clock.now();
      await store.distributed.enqueue(targets.map((h) => ({ id: `${id}_${h.id}`, hostId: h.id, sql: input.sql, kind: 'live' as const, ref: id, createdAt: now })));
      for (const h of targets) deps.notePending(h.id);
      await deps.audit.record({ type: 'admin.query', actor, data: { id, sql: input.sql, hosts: targets.length } });
      return { id, hosts: targets.length };
    },
    async liveQueryResults(id: string): Promise<unknown> {
      const rows = await store.distributed.campaignResults(id);
      if (!rows.length) throw notFound(`live query "${id}"`);
      const serials = new Map<number, string>();
      for (const r of rows) if (!serials.has(r.hostId)) serials.set(r.hostId, (await store.hosts.get(r.hostId))?.serial ?? '');
      return {
        id, hosts: rows.length, answered: rows.filter((r) => r.completedAt !== null).length,
        results: rows.map((r) => ({ serial: serials.get(r.hostId), status: r.status, message: r.message, rows: r.rows, completed_at: r.completedAt === null ? null : new Date(r.completedAt).toISOString() })),
      };
    },
    async unenroll(serial: string, actor: string): Promise<number> {
      const hosts = await store.hosts.findBySerial(serial);
      for (const h of hosts) {
        const hash = await store.hosts.unenroll(h.id);
        if (hash) deps.invalidateNodeKey(hash);
        engine.removeHost(serial, h.id);
      }
      await deps.audit.record({ type: 'admin.host.unenrolled', actor, serial, data: { hosts: hosts.length } });
      return hosts.length;
    },
  };
}

export type ControlPlane = ReturnType<typeof createControlPlane>;
