/**
 * The packs and policy API behind the admin routes: list and read the installed packs, write or delete a
 * pack file, write the policy file, dry-run a proposed policy. A change is validated against the rest
 * (no duplicate checks, no check the policy requires goes missing) before any file is written, then
 * installed into the runtime model and audited.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { AuditRecorder } from '../domain/ports.js';
import type { Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { webhookTargetProblem } from '../shared/webhook-target.js';
import { AppError, conflict, invalid, notFound } from '../shared/errors.js';
import { mergePackResults } from '../packs/load.js';
import { parsePackText } from '../packs/parse.js';
import { parsePolicy } from '../packs/policy.js';
import type { PostureEngine } from '../posture/engine.js';
import type { RuntimeModel } from './model.js';

export interface PacksApiDeps {
  model: Pick<RuntimeModel, 'packsDir' | 'packs' | 'checks' | 'policy' | 'policyFile' | 'install'>;
  engine: Pick<PostureEngine, 'dryRun'>;
  audit: Pick<AuditRecorder, 'record'>;
  clock: Clock;
  /** Webhooks may point at non-public addresses (TRUSTGATE_WEBHOOK_ALLOW_PRIVATE). */
  webhookAllowPrivate?: boolean;
}

export interface PacksApi {
  packs: {
    list(): Array<{ name: string; source: string; queries: number; checks: string[] }>;
    /** The pack as osquery pack JSON; undefined when there is none of that name. */
    get(name: string): unknown;
    put(name: string, text: string, actor: string): Promise<{ checks: string[] }>;
    remove(name: string, actor: string): Promise<void>;
  };
  policy: {
    /** The policy as written; `{ secrets: false }` replaces webhook URLs by "[redacted]" (non-admin readers). */
    get(opts?: { secrets: boolean }): unknown;
    put(text: string, format: 'yaml' | 'json', actor: string): Promise<void>;
    dryRun(text: string, format: 'yaml' | 'json'): unknown;
  };
}

/** A policy document with its webhook URLs (secrets: they carry the channel's token) replaced. */
export function redactWebhooks(source: unknown): unknown {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return source;
  const out: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  if (out.webhook !== undefined) out.webhook = REDACTED;
  const bg = out.break_glass;
  if (typeof bg === 'object' && bg !== null && !Array.isArray(bg) && 'webhook' in bg)
    out.break_glass = { ...(bg as Record<string, unknown>), webhook: REDACTED };
  return out;
}
const REDACTED = '[redacted]';

/** A policy whose webhooks point at loopback, link-local or private addresses is refused (400). */
async function refusePrivateWebhooks(policy: Policy): Promise<void> {
  for (const [key, url] of [
    ['webhook', policy.webhook],
    ['break_glass.webhook', policy.breakGlass.webhook],
  ] as const) {
    if (url === undefined) continue;
    const problem = await webhookTargetProblem(url);
    if (problem !== undefined) throw invalid(`policy ${key}: ${problem}`);
  }
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The checks the policy requires that `pick` selects, as `tier:check`. */
function required(policy: Policy, pick: (checkId: string) => boolean): Array<{ tier: string; check: string }> {
  return Object.values(policy.tiers).flatMap((t) => t.checks.filter(pick).map((check) => ({ tier: t.name, check })));
}

/** The files of a pack in the packs dir (`<name>.json`, `<name>.conf`) that exist. */
const packFiles = (packsDir: string, name: string): string[] =>
  ['.json', '.conf'].map((ext) => path.join(packsDir, `${name}${ext}`)).filter((f) => fs.existsSync(f));

/** Writes a pack (as `<name>.json`, replacing a `.conf` of that name) once it fits the rest; audited. */
async function putPack(deps: PacksApiDeps, name: string, text: string, actor: string): Promise<{ checks: string[] }> {
  const { model } = deps;
  if (!SAFE_NAME.test(name) || name === 'policy') {
    throw invalid(`pack name must be letters, digits, . _ - (and not "policy"): "${name}"`);
  }
  const file = path.join(model.packsDir, `${name}.json`);
  const parsed = parsePackText(name, text, file);
  const packs = model.packs();
  const others = packFiles(model.packsDir, name).length ? packs.filter((p) => p.name !== name) : [...packs];
  const otherChecks = model.checks().filter((c) => others.some((o) => o.name === c.pack));
  const merged = mergePackResults([{ packs: others, checks: otherChecks, errors: [], warnings: [] }, parsed]);
  const errors = [...parsed.errors, ...merged.errors];
  if (errors.length) {
    throw new AppError('invalid', `pack refused: ${errors.map((e) => e.message).join('; ')}`, errors);
  }
  const policy = model.policy();
  const present = new Set(merged.checks.map((c) => c.id));
  const missing = required(policy, (c) => !present.has(c)).map((r) => `${r.tier}:${r.check}`);
  if (missing.length) {
    throw conflict(`the policy requires checks this change would remove: ${missing.join(', ')}`);
  }
  for (const f of packFiles(model.packsDir, name)) if (f !== file) fs.rmSync(f);
  fs.writeFileSync(file, `${text}\n`);
  await model.install(merged.packs, merged.checks, policy);
  const checks = parsed.checks.map((c) => c.id);
  await deps.audit.record({ type: 'admin.pack.put', actor, data: { name, checks } });
  return { checks };
}

/** Deletes a pack's files unless the policy requires one of its checks; audited. */
async function removePack(deps: PacksApiDeps, name: string, actor: string): Promise<void> {
  const { model } = deps;
  const files = packFiles(model.packsDir, name);
  if (!files.length || !model.packs().some((p) => p.name === name)) throw notFound(`pack "${name}"`);
  const removed = new Set(
    model
      .checks()
      .filter((c) => c.pack === name)
      .map((c) => c.id),
  );
  const policy = model.policy();
  const needed = required(policy, (c) => removed.has(c)).map((r) => r.check);
  if (needed.length) {
    throw conflict(`the policy requires checks from this pack: ${needed.join(', ')}; change the policy first`);
  }
  for (const f of files) fs.rmSync(f);
  const rest = model.checks().filter((c) => c.pack !== name);
  await model.install(
    model.packs().filter((p) => p.name !== name),
    rest,
    policy,
  );
  await deps.audit.record({ type: 'admin.pack.deleted', actor, data: { name } });
}

export function createPacksApi(deps: PacksApiDeps): PacksApi {
  const { model, audit } = deps;
  const checkIds = (): string[] => model.checks().map((c) => c.id);

  return {
    packs: {
      list: () =>
        model.packs().map((p) => ({
          name: p.name,
          source: path.basename(p.source),
          queries: Object.keys(p.queries).length,
          checks: Object.entries(p.queries)
            .filter(([, q]) => q.check)
            .map(([n]) => n),
        })),
      get(name) {
        const p = model.packs().find((x) => x.name === name);
        if (!p) return undefined;
        const { source: _s, name: _n, ...doc } = p;
        return doc;
      },
      put: (name, text, actor) => putPack(deps, name, text, actor),
      remove: (name, actor) => removePack(deps, name, actor),
    },

    policy: {
      get: (opts) => {
        const source = model.policy().source ?? null;
        return opts?.secrets === false ? redactWebhooks(source) : source;
      },
      async put(text, format, actor) {
        const file = model.policyFile();
        const next = parsePolicy(text, format, checkIds(), file);
        if (deps.webhookAllowPrivate !== true) await refusePrivateWebhooks(next);
        let out: string;
        if (file.endsWith('.json')) out = JSON.stringify(next.source, null, 2);
        else out = format === 'yaml' ? text : YAML.stringify(next.source);
        // the policy carries the webhook URL (a secret): readable by the service user only
        fs.writeFileSync(file, out.endsWith('\n') ? out : `${out}\n`, { mode: 0o600 });
        fs.chmodSync(file, 0o600);
        const before = model.policy().source ?? null;
        await model.install(model.packs(), model.checks(), next);
        // the audit log is readable by viewers: the webhook URLs in it are redacted
        await audit.record({
          type: 'admin.policy.put',
          actor,
          data: { before: redactWebhooks(before), after: redactWebhooks(next.source) },
        });
      },
      dryRun(text, format) {
        const next = parsePolicy(text, format, checkIds(), 'proposed policy');
        return deps.engine.dryRun(next, deps.clock.now());
      },
    },
  };
}
