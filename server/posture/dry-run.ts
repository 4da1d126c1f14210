/**
 * The policy dry run: the fleet as it stands, carried over to a proposed policy (without swapping it
 * in), and per resource which serials it would newly deny or allow. Statuses are used as they stand;
 * the checks whose definition changed are named (the swap would re-evaluate them).
 */
import type { CheckDef, Policy, ResourceMode } from '../domain/types.js';
import type { State } from './fleet.js';
import { tierDenies } from './host-record.js';
import { isoTime } from './iso-time.js';
import { buildModel, changedChecks, type ResourceModel } from './model.js';
import { remapState } from './remap.js';
import type { AppliesFn } from './verdict.js';

export interface DryRunResource {
  resource: string;
  tier_before: string | null;
  tier_after: string | null;
  mode_before: ResourceMode | null;
  mode_after: ResourceMode | null;
  /** Serials allowed today and denied under the proposal. */
  newly_denied: string[];
  /** Serials denied today and allowed under the proposal. */
  newly_allowed: string[];
  denied_before: number;
  denied_after: number;
}

export interface DryRunReport {
  evaluated_at: string;
  devices: number;
  resources: DryRunResource[];
  /**
   * Checks whose definition differs in the proposal (model.ts checkDefinitionChanged, the checks a swap
   * re-evaluates): their current statuses were used as they stand.
   */
  changed_checks: string[];
}

/** Per resource, the enforced posture decision of every serial under a state (conflicts deny). */
function decisionsUnder(s: State, now: number): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const [name, res] of s.model.resources) {
    const allowed = new Map<string, boolean>();
    const t = s.model.tiers[res.tierIdx];
    for (const [serial, recs] of s.bySerial) {
      const rec = recs[0];
      let deny = true;
      if (rec && recs.length === 1 && !rec.info.serialConflict && t) {
        deny = tierDenies(rec, res.tierIdx, t, now);
      }
      allowed.set(serial, !deny || res.mode === 'monitor');
    }
    out.set(name, allowed);
  }
  return out;
}

function compareResource(
  name: string,
  serials: readonly string[],
  before: { res: ResourceModel | undefined; allowed: Map<string, boolean> | undefined },
  after: { res: ResourceModel | undefined; allowed: Map<string, boolean> | undefined },
): DryRunResource {
  const newlyDenied: string[] = [];
  const newlyAllowed: string[] = [];
  let deniedBefore = 0;
  let deniedAfter = 0;
  for (const serial of serials) {
    const wasAllowed = before.allowed?.get(serial) ?? false;
    const isAllowed = after.allowed?.get(serial) ?? false;
    if (!wasAllowed) deniedBefore++;
    if (!isAllowed) deniedAfter++;
    if (wasAllowed && !isAllowed) newlyDenied.push(serial);
    if (!wasAllowed && isAllowed) newlyAllowed.push(serial);
  }
  return {
    resource: name,
    tier_before: before.res?.tier ?? null,
    tier_after: after.res?.tier ?? null,
    mode_before: before.res?.mode ?? null,
    mode_after: after.res?.mode ?? null,
    newly_denied: newlyDenied,
    newly_allowed: newlyAllowed,
    denied_before: deniedBefore,
    denied_after: deniedAfter,
  };
}

/**
 * The impact of `policy` (with `checks` and `applies`, or the current ones) on the fleet of `cur` at
 * `now`. Throws `invalid` when the proposal does not compile.
 */
export function dryRun(
  cur: State,
  policy: Policy,
  now: number,
  checks?: readonly CheckDef[],
  applies?: AppliesFn,
): DryRunReport {
  const defs = checks ?? cur.model.checks.map((c) => c.def);
  const model = buildModel(policy, defs, applies ?? cur.model.applies, cur.model);
  const proposed = remapState(cur, model);
  const before = decisionsUnder(cur, now);
  const after = decisionsUnder(proposed, now);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const serials = [...cur.bySerial.keys()].sort();
  const resources = names.map((name) =>
    compareResource(
      name,
      serials,
      { res: cur.model.resources.get(name), allowed: before.get(name) },
      { res: model.resources.get(name), allowed: after.get(name) },
    ),
  );
  const changed = changedChecks(cur.model, model).map((def) => def.id);
  return { evaluated_at: isoTime(now), devices: cur.bySerial.size, resources, changed_checks: changed };
}
