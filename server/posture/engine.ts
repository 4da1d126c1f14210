/**
 * The posture engine: evaluates checks when results arrive and keeps, in memory, a small precomputed
 * record per (device, tier) so a decision is a map lookup plus a few comparisons (SPEC §3, STYLE C8).
 *
 * This file is the facade: it owns the one mutable reference to the state (model + device records,
 * fleet.ts), the break-glass grant index and the bundle cache, and composes the parts:
 * - model.ts        policy + checks → compiled model; "did this check's definition change"
 * - host-record.ts  the packed per-device record (layout, applicability, tier records)
 * - fleet.ts        the records by host id and serial; upsert, remove, bulk load (warm start)
 * - results.ts      onResults → changed check states + tier transitions (the ingest path)
 * - lookup.ts       the verdict lookup (the decision path)
 * - remap.ts        the policy swap (records carried over by check id)
 * - dry-run.ts      a proposed policy's impact;  tier-report.ts  the page's per-check view, rechecks
 * - bundle.ts       the bundle JSON + ETag cache;  grants.ts  the break-glass grant index
 * `setPolicy` builds a new state off to the side and swaps the reference, so a decision never sees
 * half a policy. Everything is synchronous; the event loop makes each call atomic with respect to the
 * others.
 */
import type { BreakGlassGrant, CheckDef, CheckStateColumns, Host, LatestResult, Policy } from '../domain/types.js';
import type { DevicePeopleLookup, LastSeen } from '../domain/ports.js';
import type { VerdictSource } from '../domain/verdict.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { createBundleCache } from './bundle.js';
import { dryRun, type DryRunReport } from './dry-run.js';
import { emptyState, loadHosts, pend, removeHost, unpend, upsertHost, type State } from './fleet.js';
import { createGrantIndex } from './grants.js';
import { lookupVerdict } from './lookup.js';
import { buildModel, changedChecks, checkQueryKey, emptyModel } from './model.js';
import { swapPolicy, type PolicySwapOutcome } from './remap.js';
import { createChunkedSwaps } from './swap-chunked.js';
import { applyResults, type ResultsOutcome } from './results.js';
import { failingOrStaleChecks, tierReport, type TierCheckReport } from './tier-report.js';
import type { AppliesFn } from './verdict.js';

export type { DryRunReport, DryRunResource } from './dry-run.js';
export type { PolicySwapOutcome } from './remap.js';
export type { ResultsOutcome, TierTransition } from './results.js';
export type { TierCheckReport } from './tier-report.js';

export interface PostureEngineDeps {
  clock: Clock;
  log: Logger;
  /** When each device was last seen (verdicts show it); without it, the time of its enrollment or last result. */
  lastSeen?: Pick<LastSeen, 'get'>;
  /**
   * The device's people (tiers with `require_device_user`); without it no device has known people, so
   * such tiers deny every request (`device_user_mismatch`).
   */
  people?: DevicePeopleLookup;
}

/**
 * The engine's verdicts carry `remediation_page: null`: the signed link is added where the signing key
 * is (the gateway's view of the engine, people/verdict-links.ts).
 */
export interface PostureEngine extends VerdictSource {
  setPolicy(policy: Policy, checks: readonly CheckDef[], applies: AppliesFn): PolicySwapOutcome;
  /**
   * The same swap built in chunks that yield to the event loop (swap-chunked.ts): decisions keep using
   * the current policy until the one reference swap; changes made meanwhile are carried over. Swaps run
   * one at a time, in call order.
   */
  setPolicyInChunks(policy: Policy, checks: readonly CheckDef[], applies: AppliesFn): Promise<PolicySwapOutcome>;
  /**
   * The warm start: every host, with the states of `states` (read for the check ids `checkIds`,
   * CheckStateRepo.columns) that belong to it. A host loaded again starts over from `states`.
   */
  loadHosts(hosts: readonly Host[], states: CheckStateColumns, checkIds: readonly string[]): void;
  /** Adds or updates a host; a pending one is only noted (its serial answers `pending_enrollment`). */
  updateHost(host: Host): void;
  onResults(host: Host, latest: readonly LatestResult[]): ResultsOutcome;
  removeHost(serial: string, hostId?: number): void;
  failingOrStaleChecks(serial: string, now: number, tier?: string): string[];
  tierReport(serial: string, tier: string, now: number): TierCheckReport[] | undefined;
  dryRun(policy: Policy, now: number, checks?: readonly CheckDef[], applies?: AppliesFn): DryRunReport;
  setActiveGrants(grants: readonly BreakGlassGrant[]): void;
  addGrant(grant: BreakGlassGrant): void;
  removeGrant(id: string): void;
  /** Every host the engine knows (active records and pending hosts), to reconcile with the store. */
  hostStates(): Array<{ id: number; serial: string; pending: boolean }>;
  /** The loaded check definitions (for recheck SQL), in load order. */
  checks(): readonly CheckDef[];
  policy(): Policy | undefined;
  stats(): {
    hosts: number;
    serials: number;
    pending: number;
    checks: number;
    tiers: number;
    resources: number;
    grants: number;
  };
}

function logApplied(log: Logger, state: State, started: number, outcome: PolicySwapOutcome, chunked: boolean): void {
  const m = state.model;
  log.info(
    {
      event: 'posture.policy_applied',
      checks: m.checks.length,
      tiers: m.tiers.length,
      resources: m.resources.size,
      hosts: state.byId.size,
      reevaluate: outcome.reevaluate.length,
      chunked,
      ms: Math.round(performance.now() - started),
    },
    'posture policy applied',
  );
}

function statsOf(state: State, grants: number): ReturnType<PostureEngine['stats']> {
  const m = state.model;
  const { byId, bySerial, pending } = state;
  return { hosts: byId.size, serials: bySerial.size, pending: pending.size, ...counts(m), grants };
}
const counts = (m: State['model']) => ({ checks: m.checks.length, tiers: m.tiers.length, resources: m.resources.size });

export function createPostureEngine(deps: PostureEngineDeps): PostureEngine {
  const log = deps.log.child({ component: 'posture' });
  let state: State = emptyState(emptyModel());
  let hasPolicy = false;
  const grants = createGrantIndex();
  const bundles = createBundleCache();
  const now = (): number => deps.clock.now();
  const current = (): State => state;
  const swaps = createChunkedSwaps(current, (next) => void (state = next));
  function setPolicy(policy: Policy, checks: readonly CheckDef[], applies: AppliesFn): PolicySwapOutcome {
    const started = performance.now();
    const { next, outcome } = swapPolicy(state, policy, checks, applies);
    state = next;
    hasPolicy = true;
    logApplied(log, state, started, outcome, false);
    return outcome;
  }

  async function setPolicyInChunks(...[policy, checks, applies]: Parameters<PostureEngine['setPolicy']>) {
    const started = performance.now();
    const { from, model } = await swaps.run((current) => buildModel(policy, checks, applies, current));
    hasPolicy = true;
    const reevaluate = changedChecks(from, model).map((def) => ({ checkId: def.id, queryKey: checkQueryKey(def) }));
    logApplied(log, state, started, { reevaluate }, true);
    return { reevaluate };
  }

  return {
    setPolicy,
    setPolicyInChunks,
    loadHosts: (hosts, states, checkIds) => {
      for (const h of hosts) swaps.touch(h.id);
      loadHosts(state, hosts, states, checkIds);
    },
    updateHost: (host) => {
      swaps.touch(host.id);
      if (host.enrollState === 'pending') pend(state, host);
      else {
        unpend(state, host.id);
        upsertHost(state, host);
      }
    },
    // a pending host's results are never stored (osquery service); this guards the engine all the same
    onResults: (host, latest) => {
      if (host.enrollState === 'pending') return { changed: [], transitions: [] };
      swaps.touch(host.id);
      return applyResults(state, host, latest, deps.clock.now(), log);
    },
    verdict: (serial, resource, user, now) =>
      lookupVerdict(state, grants, deps.lastSeen, deps.people, serial, resource, user, now),
    removeHost: (serial, hostId) => {
      if (hostId !== undefined) swaps.touch(hostId);
      else swaps.touchSerial(serial);
      removeHost(state, serial, hostId);
    },
    failingOrStaleChecks: (serial, now, tier) => failingOrStaleChecks(state, serial, now, tier),
    tierReport: (serial, tier, now) => tierReport(state, serial, tier, now),
    bundleInChunks: () => bundles.getInChunks(current, grants, now),
    dryRun: (policy, now, checks, applies) => dryRun(state, policy, now, checks, applies),
    setActiveGrants: (list) => grants.replaceAll(list),
    addGrant: (g) => grants.add(g),
    removeGrant: (id) => grants.remove(id),
    hostStates: () => [
      ...[...state.byId.values()].map((r) => ({ id: r.id, serial: r.info.serial, pending: false })),
      ...[...state.pending].map(([id, serial]) => ({ id, serial, pending: true })),
    ],
    checks: () => state.model.checks.map((c) => c.def),
    policy: () => (hasPolicy ? state.model.policy : undefined),
    stats: () => statsOf(state, grants.count()),
  };
}
