/**
 * The runtime model: what the server currently believes about packs and policy. It owns the packs and
 * their checks, the query-name resolver, the policy, the compiled config per platform and the gateway's
 * host → resource rules, loads them from the packs directory (`reload`: start, file changes, SIGHUP) and
 * installs new ones (the packs/policy API). Installing swaps the posture engine's policy and evaluates
 * the stored results of the checks the swap changed again. `watchPacksDir` reloads when the files change.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResultRepo } from '../domain/ports.js';
import type { CheckDef, Host, Pack, Policy } from '../domain/types.js';
import { deviceCertsPack } from '../domain/device-certs-query.js';
import type { Logger } from '../shared/log.js';
import { unavailable } from '../shared/errors.js';
import { loadPacksDir } from '../packs/load.js';
import { compileConfig, createQueryResolver, type QueryResolver, type CompileOptions } from '../packs/compile.js';
import { checkPlatform } from '../packs/platform.js';
import { loadPolicy } from '../packs/policy.js';
import type { PackLoadError } from '../packs/errors.js';
import type { PostureEngine } from '../posture/engine.js';
import type { Evaluation } from './evaluation.js';

/** The policy file of a packs dir: policy.yaml, or policy.json when only that exists. */
export function policyFileOf(packsDir: string): string {
  for (const name of ['policy.yaml', 'policy.yml', 'policy.json']) {
    const f = path.join(packsDir, name);
    if (fs.existsSync(f)) return f;
  }
  return path.join(packsDir, 'policy.yaml');
}

/** Whether a check runs on a host (osquery's platform rules). */
export const appliesTo = (c: CheckDef, h: Pick<Host, 'platform' | 'osPlatform'>): boolean =>
  checkPlatform(c.platform, h);

export interface RuntimeModelDeps {
  packsDir: string;
  engine: Pick<PostureEngine, 'setPolicyInChunks'>;
  results: Pick<ResultRepo, 'latestForQueries'>;
  /** Evaluates the stored results of changed checks again. */
  evaluation: Pick<Evaluation, 'refeed'>;
  compile: CompileOptions;
  /**
   * Packs every agent gets whatever the packs directory holds (the device's people queries): served and
   * resolved with the loaded packs; a loaded pack of the same name is not served.
   */
  builtinPacks?: readonly Pack[];
  log: Logger;
}

export interface RuntimeModel {
  readonly packsDir: string;
  /**
   * Loads packs and policy from the packs dir and installs them; refused files are logged and skipped, a
   * refused policy keeps the last good one (at start, with none yet, it throws). At start the engine's
   * states come from the store instead of evaluating results again (see Evaluation.warmStart).
   */
  reload(opts?: { startup?: boolean }): Promise<{ errors: PackLoadError[] }>;
  /** Installs a pack set and policy (validated by the caller) and evaluates what changed. */
  install(packs: readonly Pack[], checks: readonly CheckDef[], policy: Policy): Promise<void>;
  packs(): readonly Pack[];
  checks(): readonly CheckDef[];
  /** The installed policy; `unavailable` before the first load (the server loads before it serves). */
  policy(): Policy;
  /** Where the policy lives in the packs dir. */
  policyFile(): string;
  /** Compiled config JSON text for a host (packs filtered by platform, checks stripped), cached per platform. */
  configFor(host: Host): string;
  /** Result log `name` → canonical query key. */
  queryKeyOf(logName: string): string;
  /** Check id → its query key (recheck answers). */
  checkQueryKey(checkId: string): string | undefined;
  /** The query key is one of the loaded packs' queries (results of any other are not stored). */
  isScheduled(queryKey: string): boolean;
  /** Gateway host name (lower case) → resource, from the policy's `hosts` rules. */
  resourceForHost(host: string): string | undefined;
}

function logLoadProblems(log: Logger, errors: readonly PackLoadError[], warnings: readonly PackLoadError[]): void {
  for (const e of errors) {
    log.error({ event: 'packs.refused', file: e.file, location: e.location, problem: e.problem }, e.message);
  }
  for (const w of warnings) {
    log.warn({ event: 'packs.warning', file: w.file, location: w.location, problem: w.problem }, w.message);
  }
}

/** The policy in `file`; a refused one is logged and the current one kept (with none yet, it throws). */
function loadPolicyOrKeep(file: string, checkIds: string[], current: Policy | undefined, log: Logger): Policy {
  try {
    return loadPolicy(file, checkIds);
  } catch (e) {
    const problem = e instanceof Error ? e.message : String(e);
    log.error({ event: 'policy.refused', file, problem }, 'policy refused; keeping the last good policy');
    if (!current) throw e;
    return current;
  }
}

/** Gateway host name (lower case) → resource, from the policy's `hosts` rules. */
function hostRulesOf(policy: Policy): Map<string, string> {
  const rules = new Map<string, string>();
  for (const r of Object.values(policy.resources)) {
    for (const h of r.hosts) rules.set(h.toLowerCase(), r.name);
  }
  return rules;
}

/** The packs agents get: the loaded ones, then the built-ins (a loaded pack named like a built-in is not served). */
function servedPacks(loaded: readonly Pack[], builtin: readonly Pack[], log: Logger): readonly Pack[] {
  const builtinNames = new Set(builtin.map((p) => p.name));
  for (const p of loaded.filter((x) => builtinNames.has(x.name))) {
    log.warn({ event: 'packs.reserved_name', pack: p.name, file: p.source }, 'pack name is reserved: not served');
  }
  return [...loaded.filter((x) => !builtinNames.has(x.name)), ...builtin];
}

export function createRuntimeModel(deps: RuntimeModelDeps): RuntimeModel {
  const { engine, log, packsDir } = deps;
  let packs: readonly Pack[] = [];
  let served: readonly Pack[] = [];
  // the device-certificates query (the gateway's cert index) always, beside the packs the wiring adds
  const builtin = [deviceCertsPack, ...(deps.builtinPacks ?? [])];
  let checks: readonly CheckDef[] = [];
  let resolver: QueryResolver = createQueryResolver([]);
  let policy: Policy | undefined;
  let configCache = new Map<string, string>();
  let hostRules = new Map<string, string>();

  async function install(
    nextPacks: readonly Pack[],
    nextChecks: readonly CheckDef[],
    nextPolicy: Policy,
    reevaluate = true,
  ): Promise<void> {
    // built in chunks that yield (decisions meanwhile use the current policy); the rest follows the swap
    const swap = await engine.setPolicyInChunks(nextPolicy, nextChecks, appliesTo);
    packs = nextPacks;
    served = servedPacks(nextPacks, builtin, log);
    checks = nextChecks;
    resolver = createQueryResolver(served);
    policy = nextPolicy;
    configCache = new Map();
    hostRules = hostRulesOf(nextPolicy);
    if (reevaluate && swap.reevaluate.length) {
      await deps.evaluation.refeed(await deps.results.latestForQueries(swap.reevaluate.map((r) => r.queryKey)));
    }
  }

  async function reload(opts: { startup?: boolean } = {}): Promise<{ errors: PackLoadError[] }> {
    const loaded = loadPacksDir(packsDir);
    logLoadProblems(log, loaded.errors, loaded.warnings);
    const nextPolicy = loadPolicyOrKeep(
      policyFileOf(packsDir),
      loaded.checks.map((c) => c.id),
      policy,
      log,
    );
    await install(loaded.packs, loaded.checks, nextPolicy, !opts.startup);
    log.info(
      {
        event: 'packs.loaded',
        packs: packs.length,
        checks: checks.length,
        refused: loaded.errors.length,
        tiers: Object.keys(nextPolicy.tiers),
        resources: Object.keys(nextPolicy.resources),
      },
      'packs and policy loaded',
    );
    return { errors: loaded.errors };
  }

  return {
    packsDir,
    reload,
    install: (p, c, pol) => install(p, c, pol),
    packs: () => packs,
    checks: () => checks,
    policy() {
      if (!policy) throw unavailable('no policy is loaded yet');
      return policy;
    },
    policyFile: () => policyFileOf(packsDir),
    configFor(host) {
      const key = `${host.platform}\u0000${host.osPlatform}`;
      let text = configCache.get(key);
      if (text === undefined) {
        text = JSON.stringify({ ...compileConfig(host, served, deps.compile), node_invalid: false });
        configCache.set(key, text);
      }
      return text;
    },
    queryKeyOf: (name) => resolver.queryKeyOf(name) ?? name,
    checkQueryKey: (id) => resolver.queryKeyOfCheck(id),
    isScheduled: (key) => resolver.isScheduled(key),
    resourceForHost: (host) => hostRules.get(host),
  };
}

/**
 * Reloads the model when files in its packs dir change (debounced: one reload 300 ms after the last
 * change), and on `reload()` (SIGHUP). A failed reload keeps the running packs and policy.
 */
export function watchPacksDir(
  model: Pick<RuntimeModel, 'packsDir' | 'reload'>,
  log: Logger,
): {
  reload(): void;
  stop(): void;
} {
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void model.reload().catch((e: unknown) => {
        log.error({ event: 'packs.reload_failed', err: e }, 'reload failed; keeping the running packs and policy');
      });
    }, 300);
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(model.packsDir, reload);
  } catch (e) {
    log.warn({ event: 'packs.watch_unavailable', err: e }, 'cannot watch the packs directory; send SIGHUP to reload');
  }
  return {
    reload,
    stop() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
