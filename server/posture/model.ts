/**
 * The compiled model: a policy and its check definitions turned into what the engine indexes by
 * position (checks with their compiled `pass` predicates, tiers as check-index arrays, resources with
 * their tier index). Immutable once built; a policy swap builds a new one. Also owns the one answer
 * to "did this check's definition change" (what a swap re-evaluates and a dry run reports).
 */
import type { CheckDef, Policy, ResourceMode } from '../domain/types.js';
import type { VerdictReason } from '../domain/verdict.js';
import { invalid } from '../shared/errors.js';
import { compilePass, type PassPredicate } from './cel.js';
import { missingReason, stateReason, type AppliesFn } from './verdict.js';

export interface CheckModel {
  def: CheckDef;
  pass: PassPredicate | undefined;
  /** Shared reason for "no data yet" (identical for every device). */
  unknownReason: VerdictReason;
  /** Smallest max_age among the tiers requiring the check (Infinity if none requires it). */
  strictestMaxAgeMs: number;
}

export interface TierModel {
  name: string;
  maxAgeMs: number;
  /** Check index per required id; -1 for an id no pack defines. */
  required: Int32Array;
  requiredIds: readonly string[];
  /** The person on the request must be one of the device's people (`require_device_user`). */
  requireDeviceUser: boolean;
}

export interface ResourceModel {
  name: string;
  tier: string;
  /** -1 when the policy does not define the tier. */
  tierIdx: number;
  mode: ResourceMode;
  missingTier: readonly VerdictReason[];
}

export interface Model {
  policy: Policy;
  applies: AppliesFn;
  checks: CheckModel[];
  byId: Map<string, number>;
  byQueryKey: Map<string, number>;
  tiers: TierModel[];
  tierByName: Map<string, number>;
  resources: Map<string, ResourceModel>;
  missingReasons: Map<string, VerdictReason>;
}

const NO_REASONS: readonly VerdictReason[] = Object.freeze([]);

/** The queryKey of a check's pack query (`<pack>/<query>`, as ResultUpdate documents). */
export const checkQueryKey = (def: Pick<CheckDef, 'pack' | 'id'>): string => `${def.pack}/${def.id}`;

/**
 * Whether a check's stored status may no longer hold under `next`: it is new, or its query (SQL, or
 * the pack, which is part of its query key), its pass expression or its message differs. Title, link
 * and platform are not here: a swap carries them over without re-evaluating.
 */
export function checkDefinitionChanged(prev: CheckDef | undefined, next: CheckDef): boolean {
  return (
    !prev ||
    prev.sql !== next.sql ||
    prev.pass !== next.pass ||
    prev.message !== next.message ||
    prev.pack !== next.pack
  );
}

/** The checks of `next` whose definition changed since `prev` (checkDefinitionChanged), in load order. */
export function changedChecks(prev: Model, next: Model): CheckDef[] {
  const out: CheckDef[] = [];
  for (const c of next.checks) {
    const i = prev.byId.get(c.def.id);
    if (checkDefinitionChanged(i === undefined ? undefined : prev.checks[i]?.def, c.def)) out.push(c.def);
  }
  return out;
}

function compileChecks(checks: readonly CheckDef[], previous: Model | undefined): CheckModel[] {
  const cache = new Map<string, PassPredicate>();
  for (const c of previous?.checks ?? []) if (c.def.pass !== undefined && c.pass) cache.set(c.def.pass, c.pass);
  return checks.map((def) => {
    let pass: PassPredicate | undefined;
    if (def.pass !== undefined && def.pass.trim() !== '') pass = cache.get(def.pass) ?? compilePass(def.pass, def.id);
    const unknownReason = stateReason(def, undefined) ?? missingReason(def.id);
    return { def, pass, unknownReason, strictestMaxAgeMs: Infinity };
  });
}

function indexChecks(checks: readonly CheckModel[]): Pick<Model, 'byId' | 'byQueryKey'> {
  const byId = new Map<string, number>();
  const byQueryKey = new Map<string, number>();
  checks.forEach((c, i) => {
    const dup = byId.get(c.def.id);
    if (dup !== undefined) {
      throw invalid(`duplicate check id "${c.def.id}" (packs ${checks[dup]?.def.pack ?? '?'} and ${c.def.pack})`);
    }
    byId.set(c.def.id, i);
    byQueryKey.set(checkQueryKey(c.def), i);
  });
  return { byId, byQueryKey };
}

/**
 * Compiles a policy over its check definitions. `previous` lends its compiled pass predicates (same
 * expression, same predicate). Throws `invalid` on a pass expression that does not compile or a
 * duplicate check id: the caller keeps its current model.
 */
export function buildModel(
  policy: Policy,
  checkDefs: readonly CheckDef[],
  applies: AppliesFn,
  previous?: Model,
): Model {
  const checks = compileChecks(checkDefs, previous);
  const { byId, byQueryKey } = indexChecks(checks);
  const missingReasons = new Map<string, VerdictReason>();
  const missing = (id: string): VerdictReason => {
    let r = missingReasons.get(id);
    if (!r) missingReasons.set(id, (r = missingReason(id)));
    return r;
  };
  const tiers: TierModel[] = [];
  const tierByName = new Map<string, number>();
  for (const [name, t] of Object.entries(policy.tiers)) {
    const required = Int32Array.from(t.checks, (id) => byId.get(id) ?? -1);
    for (const id of t.checks) {
      const idx = byId.get(id);
      const c = idx === undefined ? undefined : checks[idx];
      if (c) c.strictestMaxAgeMs = Math.min(c.strictestMaxAgeMs, t.maxAgeMs);
      else missing(id);
    }
    tierByName.set(name, tiers.length);
    tiers.push({
      name,
      maxAgeMs: t.maxAgeMs,
      required,
      requiredIds: [...t.checks],
      requireDeviceUser: t.requireDeviceUser === true,
    });
  }
  const resources = new Map<string, ResourceModel>();
  for (const [name, r] of Object.entries(policy.resources)) {
    const tierIdx = tierByName.get(r.tier) ?? -1;
    const missingTier = tierIdx < 0 ? Object.freeze([missing(r.tier)]) : NO_REASONS;
    resources.set(name, { name, tier: r.tier, tierIdx, mode: r.mode, missingTier });
  }
  return { policy, applies, checks, byId, byQueryKey, tiers, tierByName, resources, missingReasons };
}

const EMPTY_POLICY: Policy = {
  tiers: {},
  resources: {},
  breakGlass: { maxDurationMs: 0, limit: { count: 0, windowMs: 0 }, approval: {} },
  source: null,
};

/** The model before any policy is applied: no checks, tiers or resources. */
export const emptyModel = (): Model => buildModel(EMPTY_POLICY, [], () => false);
