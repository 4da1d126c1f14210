/**
 * The pack commands: `trustgate apply DIR|FILE [--dry-run]` validates packs (*.json, *.conf) and
 * policy.yaml as part of the pack set they would join, shows the impact on every stored device, then
 * installs them into the packs directory (the running server reloads it); `trustgate import fleet
 * FILE` converts Fleet policy YAML into a pack of checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { policyFileOf } from '../control/model.js';
import type { Policy } from '../domain/types.js';
import { importFleetPolicies } from '../packs/fleet-import.js';
import type { PacksLoadResult } from '../packs/load.js';
import { checkPlatform } from '../packs/platform.js';
import type { DryRunReport } from '../posture/dry-run.js';
import { systemClock } from '../shared/clock.js';
import type { Args } from './args.js';
import { actor, err, need, out, UsageError } from './command.js';
import { openLocal } from './local.js';

const isPolicy = (f: string) => /^policy\.(ya?ml|json)$/.test(path.basename(f));
const base = (f: string) => path.basename(f).replace(/\.(json|conf)$/, '');

/** What `src` (a directory or one file) holds to apply: pack files, and the policy if there is one. */
function filesToApply(src: string): { packFiles: string[]; policyFile: string | undefined } {
  const files = fs.statSync(src).isDirectory()
    ? fs
        .readdirSync(src)
        .map((f) => path.join(src, f))
        .filter((f) => /\.(json|conf|ya?ml)$/.test(f))
    : [src];
  return { packFiles: files.filter((f) => !isPolicy(f) && /\.(json|conf)$/.test(f)), policyFile: files.find(isPolicy) };
}

/** The pack files in the packs directory now. */
function currentPackFiles(packsDir: string): string[] {
  return fs.existsSync(packsDir)
    ? fs
        .readdirSync(packsDir)
        .map((f) => path.join(packsDir, f))
        .filter((f) => /\.(json|conf)$/.test(f) && !isPolicy(f))
    : [];
}

/** What a dry run prints: the packs and checks, the policy's tiers, and who would be newly denied or allowed. */
function printDryRun(
  a: Args,
  merged: PacksLoadResult,
  policy: Policy,
  policyPath: string,
  report: DryRunReport | undefined,
): void {
  if (a.bools.has('json')) {
    out(
      JSON.stringify({ packs: merged.packs.map((p) => p.name), checks: merged.checks.length, impact: report ?? null }),
    );
    return;
  }
  out(
    `Valid: ${merged.packs.length} pack(s), ${merged.checks.length} check(s), policy ${path.basename(policyPath)} ` +
      `with tiers ${Object.keys(policy.tiers).join(', ')}.`,
  );
  if (report)
    for (const r of report.resources) {
      const denied = r.newly_denied;
      const some = denied.length ? ` (${denied.slice(0, 10).join(', ')}${denied.length > 10 ? ', …' : ''})` : '';
      out(`  ${r.resource}: ${denied.length} newly denied${some}, ${r.newly_allowed.length} newly allowed`);
    }
  out('Dry run: nothing written.');
}

/** Copies the pack files (replacing same-named packs of the other extension) and the policy into the packs dir. */
function install(packsDir: string, packFiles: readonly string[], policyFile: string | undefined): void {
  fs.mkdirSync(packsDir, { recursive: true });
  for (const f of packFiles) {
    for (const ext of ['.json', '.conf']) {
      const existing = path.join(packsDir, `${base(f)}${ext}`);
      if (fs.existsSync(existing) && existing !== path.join(packsDir, path.basename(f))) fs.rmSync(existing);
    }
    if (path.resolve(f) !== path.join(packsDir, path.basename(f)))
      fs.copyFileSync(f, path.join(packsDir, path.basename(f)));
  }
  if (policyFile && path.resolve(policyFile) !== policyFileOf(packsDir))
    fs.copyFileSync(policyFile, policyFileOf(packsDir));
}

export async function applyCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const src = path.resolve(need(a, 1, 'DIR or FILE'));
  const { loadPackFile, mergePackResults } = await import('../packs/load.js');
  const { loadPolicy } = await import('../packs/policy.js');
  const { packFiles, policyFile } = filesToApply(src);
  // the resulting pack set = current packs dir, with the applied files replacing same-named ones
  const current = currentPackFiles(cfg.packsDir);
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
      printDryRun(a, merged, policy, policyPath, report);
      return 0;
    }
    install(cfg.packsDir, packFiles, policyFile);
    const names = {
      packs: packFiles.map((f) => path.basename(f)),
      policy: policyFile ? path.basename(policyFile) : null,
    };
    if (local) await local.audit.record({ type: 'admin.apply', actor: actor(), data: names });
    out(
      a.bools.has('json')
        ? JSON.stringify({ applied: names.packs, policy: names.policy })
        : `Applied ${packFiles.length} pack file(s)${policyFile ? ' and the policy' : ''} to ${cfg.packsDir}; ` +
            'the server reloads them within seconds.',
    );
    return 0;
  } finally {
    await local?.store.close();
  }
}

export function importCmd(a: Args): number {
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
