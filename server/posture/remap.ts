/**
 * The policy swap: a new compiled model and every device record carried over to it by check id,
 * built off to the side so the caller can swap one reference (a decision never sees half a policy).
 * Also the dry run's "the fleet under a proposed policy".
 */
import type { CheckDef, Policy } from '../domain/types.js';
import { emptyState, indexSerial, type State } from './fleet.js';
import {
  STATUS_MASK,
  T_SLOTS,
  applyApplicability,
  emptyRec,
  recordOf,
  refreshTiers,
  type HostRec,
} from './host-record.js';
import { buildModel, changedChecks, checkQueryKey, type Model } from './model.js';
import type { AppliesFn } from './verdict.js';

export interface PolicySwapOutcome {
  /**
   * Checks that are new or whose definition changed (model.ts checkDefinitionChanged): their stored
   * statuses were carried over (or are unknown); re-feed their latest results
   * (ResultRepo.latestForQueries) through onResults to re-evaluate them under the new definition.
   */
  reevaluate: Array<{ checkId: string; queryKey: string }>;
}

/**
 * A host record under `model`, carrying over what `old` knew, by check id (`layout`: each check's index
 * in the old model, -1 when new; `same`: the layouts are identical).
 */
export function remapRec(old: HostRec, model: Model, layout: Int32Array, same: boolean): HostRec {
  const n = model.checks.length;
  const rec = same ? recordOf(old.id, old.info, old) : emptyRec(old.id, old.info, n);
  for (let j = 0; j < n; j++) {
    const c = model.checks[j];
    const i = layout[j] ?? -1;
    if (!c || i < 0) continue;
    if (!same) {
      rec.codes[j] = (old.codes[i] ?? 0) & STATUS_MASK;
      for (let k = 0; k < T_SLOTS; k++) rec.times[j * T_SLOTS + k] = old.times[i * T_SLOTS + k] ?? NaN;
    }
    const r = old.reasons[i];
    rec.reasons[j] =
      r && (r.title !== c.def.title || r.remediation_url !== (c.def.remediationUrl ?? null))
        ? Object.freeze({ ...r, title: c.def.title, remediation_url: c.def.remediationUrl ?? null })
        : r;
  }
  applyApplicability(model, rec);
  refreshTiers(model, rec);
  return rec;
}

/** Every record of `cur` carried over to `model` (a new state; `cur` is left as it is). */
/** For each check of `model`, its index in `oldModel` (-1 when new), and whether the layouts are identical. */
export function layoutOf(oldModel: Model, model: Model): { layout: Int32Array; same: boolean } {
  const layout = Int32Array.from(model.checks, (c) => oldModel.byId.get(c.def.id) ?? -1);
  return { layout, same: model.checks.length === oldModel.checks.length && layout.every((i, j) => i === j) };
}

export function remapState(cur: State, model: Model): State {
  const { layout, same } = layoutOf(cur.model, model);
  const next = emptyState(model);
  next.pending = new Map(cur.pending);
  next.pendingSerials = new Map(cur.pendingSerials);
  for (const rec of cur.byId.values()) {
    const r = remapRec(rec, model, layout, same);
    next.byId.set(r.id, r);
    indexSerial(next, r);
  }
  return next;
}

/**
 * The state under a new policy and check set, and the checks to re-evaluate. Throws (keeping `cur`)
 * when the policy does not compile.
 */
export function swapPolicy(
  cur: State,
  policy: Policy,
  checks: readonly CheckDef[],
  applies: AppliesFn,
): { next: State; outcome: PolicySwapOutcome } {
  const model = buildModel(policy, checks, applies, cur.model);
  const next = remapState(cur, model);
  const reevaluate = changedChecks(cur.model, model).map((def) => ({ checkId: def.id, queryKey: checkQueryKey(def) }));
  return { next, outcome: { reevaluate } };
}
