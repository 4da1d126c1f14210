/**
 * The posture engine: evaluates checks when results arrive and keeps, in memory, a small precomputed
 * record per (device, tier) so a decision is a map lookup plus a few comparisons (SPEC §3, STYLE C8).
 *
 * Memory layout per device (about 1.5 KB with 15 checks: ~150 MB of heap for 100k devices; measured by
 * `benchEvaluations`):
 * - `codes`   number[n]   status code (0 unknown, 1 pass, 2 fail, 3 error) | APPLICABLE bit (small ints)
 * - `times`   number[4n]  observedAt, firstFailedAt, lastPassedAt, result seq per check (NaN = none; unboxed doubles)
 * - `reasons` array[n]    the precomputed reason of each check that has data and does not pass
 * - `tiers`  one record per tier: the sorted non-passing reasons and the oldest observedAt among the
 *   tier's required applicable checks, so freshness at decision time is one comparison; only when that
 *   comparison says stale are the stale checks named.
 * Full observed rows are not kept here (they are in the check-state store).
 *
 * The model (policy + compiled checks) and the device maps live in one `state` object; `setPolicy`
 * builds a new one off to the side and swaps the reference, so a decision never sees half a policy.
 * Everything is synchronous; the event loop makes each call atomic with respect to the others.
 */
import type { CheckStateRepo, HostRepo } from '../domain/ports.js';
import {
  compareResultOrder, resultOrderOf,
  type BreakGlassGrant, type CheckDef, type CheckState, type CheckStateColumns, type CheckStatus, type Host, type LatestResult,
  type Policy, type ResourceMode,
} from '../domain/types.js';
import type {
  BundleDevice, BundleGrant, Decision, VerdictBundle, VerdictBundleSnapshot, VerdictLookup, VerdictReason, VerdictSource,
} from '../domain/verdict.js';
import type { Clock } from '../shared/clock.js';
import { sha256Hex } from '../shared/crypto.js';
import { invalid } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { compilePass, type PassPredicate } from './cel.js';
import { evaluateCheck } from './evaluate-check.js';
import { isoTime } from './iso-time.js';
import {
  assembleVerdict, deviceReason, findGrant, missingReason, sortReasons, staleReason, stateReason,
  type AppliesFn, type DeviceInfo, type RemediationLinkFn,
} from './verdict.js';

// ───────────────────────────── compact codes ─────────────────────────────

const S_UNKNOWN = 0;
const S_PASS = 1;
const S_FAIL = 2;
const S_ERROR = 3;
const STATUS_MASK = 0x0f;
const APPLICABLE = 0x10;
const CODE_OF: Record<CheckStatus, number> = { unknown: S_UNKNOWN, pass: S_PASS, fail: S_FAIL, error: S_ERROR };
const STATUS_OF: readonly CheckStatus[] = ['unknown', 'pass', 'fail', 'error'];
const T_OBSERVED = 0;
const T_FAILED = 1;
const T_PASSED = 2;
/** The arrival seq of the result evaluated (with observedAt's second, the result order). */
const T_SEQ = 3;
/** Slots of `times` per check. */
const T_SLOTS = 4;
const EMPTY: readonly VerdictReason[] = Object.freeze([]);
const UNKNOWN_DEVICE: readonly VerdictReason[] = Object.freeze([deviceReason('unknown_device')]);
const SERIAL_CONFLICT: readonly VerdictReason[] = Object.freeze([deviceReason('serial_conflict')]);

const numOrNaN = (v: number | null | undefined): number => (v === null || v === undefined ? NaN : v);
const nullIfNaN = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

// ───────────────────────────── model (immutable per policy) ─────────────────────────────

interface CheckModel {
  def: CheckDef;
  pass: PassPredicate | undefined;
  /** Shared reason for "no data yet" (identical for every device). */
  unknownReason: VerdictReason;
  /** Smallest max_age among the tiers requiring the check (Infinity if none requires it). */
  strictestMaxAgeMs: number;
}

interface TierModel {
  name: string;
  maxAgeMs: number;
  /** Check index per required id; -1 for an id no pack defines. */
  required: Int32Array;
  requiredIds: readonly string[];
}

interface ResourceModel {
  name: string;
  tier: string;
  /** -1 when the policy does not define the tier. */
  tierIdx: number;
  mode: ResourceMode;
  missingTier: readonly VerdictReason[];
}

interface Model {
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

interface TierRec {
  reasons: readonly VerdictReason[];
  /** Oldest observedAt among the tier's required applicable checks with data; Infinity if none. */
  oldest: number;
}

interface HostRec {
  id: number;
  info: DeviceInfo;
  /** Small integers (V8 keeps them unboxed; plain arrays allocate far cheaper than typed arrays). */
  codes: number[];
  /** Doubles (unboxed in a packed double array). */
  times: number[];
  reasons: Array<VerdictReason | undefined>;
  tiers: TierRec[];
  /** This device's serialized bundle entry, built on demand and dropped whenever the record changes. */
  bundleJson: string | undefined;
}

interface State {
  model: Model;
  byId: Map<number, HostRec>;
  bySerial: Map<string, HostRec[]>;
  /** Serials in bundle order, built on demand and dropped when a serial appears or disappears. */
  sortedSerials?: string[] | undefined;
}

/** The queryKey of a check's pack query (`<pack>/<query>`, as ResultUpdate documents). */
export const checkQueryKey = (def: Pick<CheckDef, 'pack' | 'id'>): string => `${def.pack}/${def.id}`;

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

function buildModel(policy: Policy, checkDefs: readonly CheckDef[], applies: AppliesFn, previous?: Model): Model {
  const checks = compileChecks(checkDefs, previous);
  const byId = new Map<string, number>();
  const byQueryKey = new Map<string, number>();
  checks.forEach((c, i) => {
    if (byId.has(c.def.id)) throw invalid(`duplicate check id "${c.def.id}" (packs ${checks[byId.get(c.def.id) ?? 0]?.def.pack ?? '?'} and ${c.def.pack})`);
    byId.set(c.def.id, i);
    byQueryKey.set(checkQueryKey(c.def), i);
  });
  const missingReasons = new Map<string, VerdictReason>();
  const missing = (id: string): VerdictReason => {
    let r = missingReasons.get(id);
    if (!r) missingReasons.set(id, (r = missingReason(id)));
    return r;
  };
  const tiers: TierModel[] = [];
  const tierByName = new Map<string, number>();
  for (const [key, t] of Object.entries(policy.tiers)) {
    const name = key;
    const required = Int32Array.from(t.checks, (id) => byId.get(id) ?? -1);
    t.checks.forEach((id) => {
      const idx = byId.get(id);
      const c = idx === undefined ? undefined : checks[idx];
      if (c) c.strictestMaxAgeMs = Math.min(c.strictestMaxAgeMs, t.maxAgeMs);
      else missing(id);
    });
    tierByName.set(key, tiers.length);
    tiers.push({ name, maxAgeMs: t.maxAgeMs, required, requiredIds: [...t.checks] });
  }
  const resources = new Map<string, ResourceModel>();
  for (const [key, r] of Object.entries(policy.resources)) {
    const tierIdx = tierByName.get(r.tier) ?? -1;
    resources.set(key, {
      name: key, tier: r.tier, tierIdx, mode: r.mode,
      missingTier: tierIdx < 0 ? Object.freeze([missing(r.tier)]) : EMPTY,
    });
  }
  return { policy, applies, checks, byId, byQueryKey, tiers, tierByName, resources, missingReasons };
}

function tierRecord(model: Model, t: TierModel, rec: Pick<HostRec, 'codes' | 'times' | 'reasons'>): TierRec {
  let reasons: VerdictReason[] | undefined;
  let oldest = Infinity;
  for (let k = 0; k < t.required.length; k++) {
    const idx = t.required[k] ?? -1;
    if (idx < 0) {
      (reasons ??= []).push(model.missingReasons.get(t.requiredIds[k] ?? '') ?? missingReason(t.requiredIds[k] ?? ''));
      continue;
    }
    const code = rec.codes[idx] ?? 0;
    if ((code & APPLICABLE) === 0) continue;
    const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
    if (obs < oldest) oldest = obs;
    if ((code & STATUS_MASK) !== S_PASS) (reasons ??= []).push(rec.reasons[idx] ?? model.checks[idx]?.unknownReason ?? missingReason(t.requiredIds[k] ?? ''));
  }
  return { reasons: reasons ? Object.freeze(sortReasons(reasons)) : EMPTY, oldest };
}

function refreshTiers(model: Model, rec: HostRec): void {
  rec.tiers = model.tiers.map((t) => tierRecord(model, t, rec));
  rec.bundleJson = undefined;
}

function applyApplicability(model: Model, rec: HostRec): void {
  for (let i = 0; i < model.checks.length; i++) {
    const c = model.checks[i];
    const applicable = c !== undefined && model.applies(c.def, rec.info);
    const code = rec.codes[i] ?? 0;
    rec.codes[i] = applicable ? code | APPLICABLE : code & STATUS_MASK;
  }
}

function infoOf(host: Host): DeviceInfo {
  return {
    serial: host.serial, hostname: host.hostname, platform: host.platform, osPlatform: host.osPlatform,
    lastSeenAt: host.lastSeenAt, serialConflict: host.serialConflict,
  };
}

function emptyRec(id: number, info: DeviceInfo, n: number): HostRec {
  const codes: number[] = [];
  const times: number[] = [];
  const reasons: Array<VerdictReason | undefined> = [];
  for (let i = 0; i < n; i++) {
    codes.push(0);
    times.push(NaN, NaN, NaN, NaN);
    reasons.push(undefined);
  }
  return { id, info, codes, times, reasons, tiers: [], bundleJson: undefined };
}

function setState(rec: HostRec, idx: number, s: Pick<CheckState, 'status' | 'observedAt' | 'firstFailedAt' | 'lastPassedAt' | 'resultSeq'>, reason: VerdictReason | undefined): void {
  rec.codes[idx] = ((rec.codes[idx] ?? 0) & APPLICABLE) | CODE_OF[s.status];
  rec.times[idx * T_SLOTS + T_OBSERVED] = numOrNaN(s.observedAt);
  rec.times[idx * T_SLOTS + T_FAILED] = numOrNaN(s.firstFailedAt);
  rec.times[idx * T_SLOTS + T_PASSED] = numOrNaN(s.lastPassedAt);
  rec.times[idx * T_SLOTS + T_SEQ] = numOrNaN(s.resultSeq);
  rec.reasons[idx] = reason;
}

/** For each check of `model`, its index in `oldModel` (-1 when new). */
function layoutOf(oldModel: Model, model: Model): Int32Array {
  return Int32Array.from(model.checks, (c) => oldModel.byId.get(c.def.id) ?? -1);
}

/** A host record under `model`, carrying over what `old` (under `oldModel`) knew, by check id. */
function remapRec(old: HostRec, oldModel: Model, model: Model, layout: Int32Array): HostRec {
  const n = model.checks.length;
  const same = n === oldModel.checks.length && layout.every((i, j) => i === j);
  const rec: HostRec = same
    ? { id: old.id, info: old.info, codes: old.codes.slice(), times: old.times.slice(), reasons: old.reasons.slice(), tiers: [], bundleJson: undefined }
    : emptyRec(old.id, old.info, n);
  for (let j = 0; j < n; j++) {
    const c = model.checks[j];
    const i = layout[j] ?? -1;
    if (!c || i < 0) continue;
    if (!same) {
      rec.codes[j] = (old.codes[i] ?? 0) & STATUS_MASK;
      for (let k = 0; k < T_SLOTS; k++) rec.times[j * T_SLOTS + k] = old.times[i * T_SLOTS + k] ?? NaN;
    }
    const r = old.reasons[i];
    rec.reasons[j] = r && (r.title !== c.def.title || r.remediation_url !== (c.def.remediationUrl ?? null))
      ? Object.freeze({ ...r, title: c.def.title, remediation_url: c.def.remediationUrl ?? null })
      : r;
  }
  applyApplicability(model, rec);
  refreshTiers(model, rec);
  return rec;
}

/** The tier's posture decision at `now`: deny when anything does not pass or the oldest result is stale. */
function tierDenies(rec: TierRec, t: TierModel, now: number): boolean {
  return rec.reasons.length > 0 || now - rec.oldest > t.maxAgeMs;
}

function staleReasons(model: Model, t: TierModel, rec: HostRec, base: readonly VerdictReason[], now: number): readonly VerdictReason[] {
  let stale: VerdictReason[] | undefined;
  for (let k = 0; k < t.required.length; k++) {
    const idx = t.required[k] ?? -1;
    if (idx < 0) continue;
    const code = rec.codes[idx] ?? 0;
    if ((code & APPLICABLE) === 0 || (code & STATUS_MASK) !== S_PASS) continue;
    const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
    const c = model.checks[idx];
    if (c && now - obs > t.maxAgeMs) (stale ??= []).push(staleReason(c.def, obs, t.maxAgeMs));
  }
  return stale ? sortReasons([...base, ...stale]) : base;
}

const grantKey = (serial: string, user: string): string => `${serial}\u0000${user}`;

// ───────────────────────────── public API ─────────────────────────────

export interface PostureEngineDeps {
  clock: Clock;
  log: Logger;
  /** Signed remediation-page link, set on verdicts whose posture would deny. */
  remediationLink?: RemediationLinkFn;
  /** Where `invalidate` re-reads devices from (optional: without it, invalidate only recomputes). */
  store?: {
    hosts: Pick<HostRepo, 'findBySerial' | 'list'>;
    checkStates: Pick<CheckStateRepo, 'forHost' | 'all'>;
  };
}

export interface TierTransition {
  serial: string;
  hostId: number;
  tier: string;
  from: Decision;
  to: Decision;
  /** Check ids that do not pass (or are stale) after the change. */
  reasons: string[];
}

export interface ResultsOutcome {
  /** States that changed: persist them (CheckStateRepo.putMany). */
  changed: CheckState[];
  /** Tier posture decisions that flipped: audit them. */
  transitions: TierTransition[];
}

export interface PolicySwapOutcome {
  /**
   * Checks that are new or whose query, pass expression or message changed: their stored statuses were
   * carried over (or are unknown); re-feed their latest results (ResultRepo.latestForQueries) through
   * onResults to re-evaluate them under the new definition.
   */
  reevaluate: Array<{ checkId: string; queryKey: string }>;
}

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
  /** Checks whose definition differs in the proposal: their current statuses were used as they stand. */
  changed_checks: string[];
}

/** One row of the remediation page: a required check of a tier and where the device stands. */
export interface TierCheckReport {
  check: string;
  title: string;
  status: CheckStatus | 'stale' | 'missing' | 'not_applicable';
  /** The reason's message when the check does not pass; null when it passes or does not apply. */
  message: string | null;
  remediation_url: string | null;
  observed_at: string | null;
  first_failed_at: string | null;
  last_passed_at: string | null;
}

export interface PostureEngine extends VerdictSource {
  setPolicy(policy: Policy, checks: readonly CheckDef[], applies: AppliesFn): PolicySwapOutcome;
  loadHost(host: Host, states: readonly CheckState[]): void;
  /**
   * The warm start's bulk form of loadHost: every host, with the states of `states` (read for the check
   * ids `checkIds`, CheckStateRepo.columns) that belong to it. Same records as loadHost host by host.
   */
  loadHosts(hosts: readonly Host[], states: CheckStateColumns, checkIds: readonly string[]): void;
  updateHost(host: Host): void;
  onResults(host: Host, latest: readonly LatestResult[]): ResultsOutcome;
  removeHost(serial: string, hostId?: number): void;
  invalidate(serial?: string): Promise<void>;
  failingOrStaleChecks(serial: string, now: number, tier?: string): string[];
  tierReport(serial: string, tier: string, now: number): TierCheckReport[] | undefined;
  dryRun(policy: Policy, now: number, checks?: readonly CheckDef[], applies?: AppliesFn): DryRunReport;
  setActiveGrants(grants: readonly BreakGlassGrant[]): void;
  addGrant(grant: BreakGlassGrant): void;
  removeGrant(id: string): void;
  /** The loaded check definitions (for recheck SQL), in load order. */
  checks(): readonly CheckDef[];
  policy(): Policy | undefined;
  stats(): { hosts: number; serials: number; checks: number; tiers: number; resources: number; grants: number };
}

const EMPTY_POLICY: Policy = {
  tiers: {}, resources: {},
  breakGlass: { maxDurationMs: 0, limit: { count: 0, windowMs: 0 }, approval: {} },
  source: null,
};

export function createPostureEngine(deps: PostureEngineDeps): PostureEngine {
  const log = deps.log.child({ component: 'posture' });
  let state: State = {
    model: buildModel(EMPTY_POLICY, [], () => false),
    byId: new Map(),
    bySerial: new Map(),
  };
  let hasPolicy = false;
  let grants = new Map<string, BreakGlassGrant[]>();
  let bundleCache: { snapshot: VerdictBundleSnapshot; validUntil: number } | undefined;
  const dirty = (): void => {
    bundleCache = undefined;
  };

  const indexSerial = (s: State, rec: HostRec): void => {
    const list = s.bySerial.get(rec.info.serial);
    if (!list) {
      s.bySerial.set(rec.info.serial, [rec]);
      s.sortedSerials = undefined;
    } else if (!list.includes(rec)) list.push(rec);
  };
  const unindexSerial = (s: State, rec: HostRec): void => {
    const list = s.bySerial.get(rec.info.serial);
    if (!list) return;
    const rest = list.filter((r) => r !== rec);
    if (rest.length) s.bySerial.set(rec.info.serial, rest);
    else {
      s.bySerial.delete(rec.info.serial);
      s.sortedSerials = undefined;
    }
  };

  function upsertHost(host: Host): HostRec {
    const s = state;
    const info = infoOf(host);
    let rec = s.byId.get(host.id);
    if (!rec) {
      rec = emptyRec(host.id, info, s.model.checks.length);
      applyApplicability(s.model, rec);
      refreshTiers(s.model, rec);
      s.byId.set(host.id, rec);
      indexSerial(s, rec);
      dirty();
      return rec;
    }
    const old = rec.info;
    if (old.serial !== info.serial) unindexSerial(s, rec);
    rec.info = info;
    if (old.serial !== info.serial) indexSerial(s, rec);
    if (old.platform !== info.platform || old.osPlatform !== info.osPlatform) {
      applyApplicability(s.model, rec);
      refreshTiers(s.model, rec);
    }
    if (old.serial !== info.serial || old.platform !== info.platform || old.osPlatform !== info.osPlatform
      || old.hostname !== info.hostname || old.serialConflict !== info.serialConflict) {
      rec.bundleJson = undefined;
      dirty();
    }
    return rec;
  }

  function loadHostInto(s: State, host: Host, states: readonly CheckState[]): void {
    const old = s.byId.get(host.id);
    if (old) unindexSerial(s, old);
    const rec = emptyRec(host.id, infoOf(host), s.model.checks.length);
    for (const st of states) {
      const idx = s.model.byId.get(st.checkId);
      const c = idx === undefined ? undefined : s.model.checks[idx];
      if (idx === undefined || !c) continue;
      setState(rec, idx, st, st.status === 'unknown' ? undefined : stateReason(c.def, st));
    }
    applyApplicability(s.model, rec);
    refreshTiers(s.model, rec);
    s.byId.set(host.id, rec);
    indexSerial(s, rec);
  }

  function loadHostsInto(s: State, hosts: readonly Host[], cols: CheckStateColumns, checkIds: readonly string[]): void {
    const first = hosts[0];
    if (!first) return;
    const m = s.model;
    const idxOf = Int32Array.from(checkIds, (id) => m.byId.get(id) ?? -1);
    // Applicability depends only on (platform, osPlatform): one codes template per pair, copied per host.
    const blank = emptyRec(0, infoOf(first), m.checks.length);
    const templates = new Map<string, number[]>();
    const fresh = new Map<number, HostRec>();
    for (const host of hosts) {
      const old = s.byId.get(host.id);
      if (old) unindexSerial(s, old);
      const info = infoOf(host);
      const key = `${info.platform}\u0000${info.osPlatform}`;
      let codes = templates.get(key);
      if (!codes) {
        const t: HostRec = { ...blank, info, codes: blank.codes.slice() };
        applyApplicability(m, t);
        templates.set(key, (codes = t.codes));
      }
      const rec: HostRec = { id: host.id, info, codes: codes.slice(), times: blank.times.slice(), reasons: blank.reasons.slice(), tiers: [], bundleJson: undefined };
      s.byId.set(host.id, rec);
      indexSerial(s, rec);
      fresh.set(host.id, rec);
    }
    const { hostId, check, status, observedAt, firstFailedAt, lastPassedAt, resultSeq } = cols;
    for (let i = 0; i < cols.length; i++) {
      const rec = fresh.get(hostId[i] ?? NaN);
      const idx = idxOf[check[i] ?? 0] ?? -1;
      if (!rec || idx < 0) continue;
      const code = status[i] ?? S_UNKNOWN;
      const obs = observedAt[i] ?? NaN;
      rec.codes[idx] = ((rec.codes[idx] ?? 0) & APPLICABLE) | code;
      rec.times[idx * T_SLOTS + T_OBSERVED] = obs;
      rec.times[idx * T_SLOTS + T_FAILED] = firstFailedAt[i] ?? NaN;
      rec.times[idx * T_SLOTS + T_PASSED] = lastPassedAt[i] ?? NaN;
      rec.times[idx * T_SLOTS + T_SEQ] = resultSeq[i] ?? NaN;
      const c = m.checks[idx];
      rec.reasons[idx] = code === S_UNKNOWN || code === S_PASS || !c ? undefined : stateReason(c.def, {
        status: STATUS_OF[code] ?? 'unknown', message: cols.message.get(i) ?? c.def.message,
        observedAt: Number.isNaN(obs) ? null : obs, error: cols.error.get(i) ?? null,
      });
    }
    for (const rec of fresh.values()) refreshTiers(m, rec);
  }

  function hostDecisions(rec: HostRec, now: number): boolean[] {
    const m = state.model;
    return rec.tiers.map((tr, i) => {
      const t = m.tiers[i];
      return t ? tierDenies(tr, t, now) : true;
    });
  }

  function reasonIds(rec: HostRec, tierIdx: number, now: number): string[] {
    const m = state.model;
    const t = m.tiers[tierIdx];
    const tr = rec.tiers[tierIdx];
    if (!t || !tr) return [];
    const reasons = now - tr.oldest > t.maxAgeMs ? staleReasons(m, t, rec, tr.reasons, now) : tr.reasons;
    return reasons.map((r) => r.check);
  }

  function verdict(serial: string, resourceName: string, user: string | null, now: number): VerdictLookup {
    const s = state;
    const m = s.model;
    const res = m.resources.get(resourceName);
    if (!res) return { kind: 'unknown_resource', resource: resourceName };
    const recs = s.bySerial.get(serial);
    let device: DeviceInfo | undefined;
    let reasons: readonly VerdictReason[];
    let oldest = Infinity;
    let grantable = true;
    if (!recs || recs.length === 0) {
      device = undefined;
      reasons = UNKNOWN_DEVICE;
    } else if (recs.length > 1 || recs[0]?.info.serialConflict) {
      device = latestRec(recs)?.info;
      reasons = SERIAL_CONFLICT;
      oldest = NaN;
      grantable = false;
    } else {
      const rec = recs[0] as HostRec;
      device = rec.info;
      reasons = res.missingTier;
      const t = m.tiers[res.tierIdx];
      const tr = rec.tiers[res.tierIdx];
      if (t && tr) {
        oldest = tr.oldest;
        if (now - oldest > t.maxAgeMs) reasons = staleReasons(m, t, rec, tr.reasons, now);
        else reasons = tr.reasons;
      }
    }
    if (!recs || recs.length === 0) oldest = NaN;
    const grant = grantable && reasons.length > 0 && user !== null && grants.size > 0
      ? findGrant(grants.get(grantKey(serial, user)), serial, user, res.tier, now) : undefined;
    return {
      kind: 'verdict',
      verdict: assembleVerdict({
        serial, user, resource: res, tier: res.tier, device, reasons, oldestObservedAt: oldest, grant, now,
        remediationLink: deps.remediationLink,
      }),
    };
  }

  function onResults(host: Host, latest: readonly LatestResult[]): ResultsOutcome {
    const rec = upsertHost(host);
    const m = state.model;
    const now = deps.clock.now();
    const before = hostDecisions(rec, now);
    const changed: CheckState[] = [];
    for (const l of latest) {
      if (l.hostId !== host.id) {
        log.warn({ event: 'posture.result_host_mismatch', hostId: host.id, resultHostId: l.hostId, queryKey: l.queryKey }, 'result for another host ignored');
        continue;
      }
      const idx = m.byQueryKey.get(l.queryKey) ?? m.byId.get(l.queryKey);
      const c = idx === undefined ? undefined : m.checks[idx];
      if (idx === undefined || !c) continue;
      const o = idx * T_SLOTS;
      const prevObserved = rec.times[o + T_OBSERVED] ?? NaN;
      const prevSeq = rec.times[o + T_SEQ] ?? NaN;
      // an older result than the one evaluated (callbacks of separate commits can arrive out of order): never overwrite
      if (compareResultOrder(resultOrderOf(l), { second: Math.floor(prevObserved / 1000), seq: prevSeq }) < 0) continue;
      const prev = { firstFailedAt: nullIfNaN(rec.times[o + T_FAILED]), lastPassedAt: nullIfNaN(rec.times[o + T_PASSED]) };
      const next = evaluateCheck(c.def, c.pass, l, prev, host.id);
      const reason = stateReason(c.def, next);
      const prevCode = (rec.codes[idx] ?? 0) & STATUS_MASK;
      const same = prevCode === CODE_OF[next.status]
        && prevObserved === numOrNaN(next.observedAt)
        && nullIfNaN(rec.times[o + T_FAILED]) === next.firstFailedAt
        && nullIfNaN(rec.times[o + T_PASSED]) === next.lastPassedAt
        && nullIfNaN(rec.times[o + T_SEQ]) === next.resultSeq
        && rec.reasons[idx]?.message === reason?.message;
      if (same) continue;
      setState(rec, idx, next, reason);
      changed.push(next);
    }
    if (changed.length === 0) return { changed, transitions: [] };
    refreshTiers(m, rec);
    dirty();
    const after = hostDecisions(rec, now);
    const transitions: TierTransition[] = [];
    after.forEach((deny, i) => {
      if (deny === before[i]) return;
      const t = m.tiers[i];
      if (!t) return;
      transitions.push({
        serial: rec.info.serial, hostId: rec.id, tier: t.name,
        from: before[i] ? 'deny' : 'allow', to: deny ? 'deny' : 'allow', reasons: deny ? reasonIds(rec, i, now) : [],
      });
    });
    return { changed, transitions };
  }

  function setPolicy(policy: Policy, checks: readonly CheckDef[], applies: AppliesFn): PolicySwapOutcome {
    const started = performance.now();
    const old = state;
    const model = buildModel(policy, checks, applies, old.model);
    const next: State = { model, byId: new Map(), bySerial: new Map() };
    const layout = layoutOf(old.model, model);
    for (const rec of old.byId.values()) {
      const r = remapRec(rec, old.model, model, layout);
      next.byId.set(r.id, r);
      indexSerial(next, r);
    }
    const reevaluate: PolicySwapOutcome['reevaluate'] = [];
    for (const c of model.checks) {
      const i = old.model.byId.get(c.def.id);
      const prev = i === undefined ? undefined : old.model.checks[i]?.def;
      if (!prev || prev.sql !== c.def.sql || prev.pass !== c.def.pass || prev.message !== c.def.message || prev.pack !== c.def.pack) {
        reevaluate.push({ checkId: c.def.id, queryKey: checkQueryKey(c.def) });
      }
    }
    state = next;
    hasPolicy = true;
    dirty();
    log.info({
      event: 'posture.policy_applied', checks: model.checks.length, tiers: model.tiers.length, resources: model.resources.size,
      hosts: next.byId.size, reevaluate: reevaluate.length, ms: Math.round(performance.now() - started),
    }, 'posture policy applied');
    return { reevaluate };
  }

  function removeHost(serial: string, hostId?: number): void {
    const s = state;
    for (const rec of [...(s.bySerial.get(serial) ?? [])]) {
      if (hostId !== undefined && rec.id !== hostId) continue;
      s.byId.delete(rec.id);
      unindexSerial(s, rec);
      dirty();
    }
  }

  async function invalidate(serial?: string): Promise<void> {
    dirty();
    const store = deps.store;
    if (!store) {
      const s = state;
      const recs = serial === undefined ? [...s.byId.values()] : [...(s.bySerial.get(serial) ?? [])];
      for (const rec of recs) {
        applyApplicability(s.model, rec);
        refreshTiers(s.model, rec);
      }
      return;
    }
    if (serial !== undefined) {
      const hosts = await store.hosts.findBySerial(serial);
      const loaded = await Promise.all(hosts.map(async (h) => ({ h, states: await store.checkStates.forHost(h.id) })));
      const s = state;
      for (const rec of [...(s.bySerial.get(serial) ?? [])]) {
        if (!hosts.some((h) => h.id === rec.id)) {
          s.byId.delete(rec.id);
          unindexSerial(s, rec);
        }
      }
      for (const { h, states } of loaded) loadHostInto(s, h, states);
      dirty();
      return;
    }
    const hosts: Host[] = [];
    const page = 1000;
    for (let offset = 0; ; offset += page) {
      const batch = await store.hosts.list({ limit: page, offset });
      hosts.push(...batch);
      if (batch.length < page) break;
    }
    const all = await store.checkStates.all();
    const byHost = new Map<number, CheckState[]>();
    for (const st of all) {
      const list = byHost.get(st.hostId);
      if (list) list.push(st);
      else byHost.set(st.hostId, [st]);
    }
    const next: State = { model: state.model, byId: new Map(), bySerial: new Map() };
    for (const h of hosts) loadHostInto(next, h, byHost.get(h.id) ?? []);
    state = next;
    dirty();
    log.info({ event: 'posture.reloaded', hosts: hosts.length, states: all.length }, 'posture state reloaded from the store');
  }

  function failingOrStaleChecks(serial: string, now: number, tier?: string): string[] {
    const m = state.model;
    const recs = state.bySerial.get(serial);
    const rec = recs && latestRec(recs);
    if (!rec) return [];
    const out: string[] = [];
    const consider = (idx: number, maxAgeMs: number): void => {
      const c = m.checks[idx];
      const code = rec.codes[idx] ?? 0;
      if (!c || (code & APPLICABLE) === 0 || out.includes(c.def.id)) return;
      const obs = rec.times[idx * T_SLOTS + T_OBSERVED] ?? NaN;
      if ((code & STATUS_MASK) !== S_PASS || now - obs > maxAgeMs) out.push(c.def.id);
    };
    if (tier !== undefined) {
      const t = m.tiers[m.tierByName.get(tier) ?? -1];
      for (const idx of t?.required ?? []) if (idx >= 0 && t) consider(idx, t.maxAgeMs);
    } else {
      m.checks.forEach((c, idx) => {
        if (Number.isFinite(c.strictestMaxAgeMs)) consider(idx, c.strictestMaxAgeMs);
      });
    }
    return out;
  }

  function tierReport(serial: string, tierName: string, now: number): TierCheckReport[] | undefined {
    const m = state.model;
    const t = m.tiers[m.tierByName.get(tierName) ?? -1];
    const recs = state.bySerial.get(serial);
    const rec = recs && latestRec(recs);
    if (!t || !rec) return undefined;
    const rows: TierCheckReport[] = [];
    t.requiredIds.forEach((id, k) => {
      const idx = t.required[k] ?? -1;
      const c = m.checks[idx];
      if (idx < 0 || !c) {
        rows.push({ check: id, title: id, status: 'missing', message: missingReason(id).message, remediation_url: null,
          observed_at: null, first_failed_at: null, last_passed_at: null });
        return;
      }
      const code = rec.codes[idx] ?? 0;
      const o = idx * T_SLOTS;
      const obs = nullIfNaN(rec.times[o + T_OBSERVED]);
      const ff = nullIfNaN(rec.times[o + T_FAILED]);
      const lp = nullIfNaN(rec.times[o + T_PASSED]);
      const base = {
        check: id, title: c.def.title, remediation_url: c.def.remediationUrl ?? null,
        observed_at: obs === null ? null : isoTime(obs), first_failed_at: ff === null ? null : isoTime(ff), last_passed_at: lp === null ? null : isoTime(lp),
      };
      if ((code & APPLICABLE) === 0) {
        rows.push({ ...base, status: 'not_applicable', message: null });
        return;
      }
      const status = STATUS_OF[code & STATUS_MASK] ?? 'unknown';
      if (status === 'pass' && obs !== null && now - obs > t.maxAgeMs) {
        rows.push({ ...base, status: 'stale', message: staleReason(c.def, obs, t.maxAgeMs).message });
        return;
      }
      const reason = status === 'pass' ? undefined : rec.reasons[idx] ?? c.unknownReason;
      rows.push({ ...base, status, message: reason?.message ?? null });
    });
    const rank = (r: TierCheckReport): number =>
      ({ fail: 0, error: 1, stale: 2, unknown: 3, missing: 4, pass: 5, not_applicable: 6 })[r.status];
    return rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
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
          const tr = rec.tiers[res.tierIdx];
          deny = !tr || tierDenies(tr, t, now);
        }
        allowed.set(serial, !deny || res.mode === 'monitor');
      }
      out.set(name, allowed);
    }
    return out;
  }

  function dryRun(policy: Policy, now: number, checks?: readonly CheckDef[], applies?: AppliesFn): DryRunReport {
    const cur = state;
    const model = buildModel(policy, checks ?? cur.model.checks.map((c) => c.def), applies ?? cur.model.applies, cur.model);
    const proposed: State = { model, byId: new Map(), bySerial: new Map() };
    const layout = layoutOf(cur.model, model);
    for (const rec of cur.byId.values()) {
      const r = remapRec(rec, cur.model, model, layout);
      proposed.byId.set(r.id, r);
      indexSerial(proposed, r);
    }
    const before = decisionsUnder(cur, now);
    const after = decisionsUnder(proposed, now);
    const names = [...new Set([...before.keys(), ...after.keys()])].sort();
    const serials = [...cur.bySerial.keys()].sort();
    const resources = names.map((name): DryRunResource => {
      const b = before.get(name);
      const a = after.get(name);
      const rb = cur.model.resources.get(name);
      const ra = model.resources.get(name);
      const newlyDenied: string[] = [];
      const newlyAllowed: string[] = [];
      let deniedBefore = 0;
      let deniedAfter = 0;
      for (const serial of serials) {
        const wasAllowed = b?.get(serial) ?? false;
        const isAllowed = a?.get(serial) ?? false;
        if (!wasAllowed) deniedBefore++;
        if (!isAllowed) deniedAfter++;
        if (wasAllowed && !isAllowed) newlyDenied.push(serial);
        if (!wasAllowed && isAllowed) newlyAllowed.push(serial);
      }
      return {
        resource: name, tier_before: rb?.tier ?? null, tier_after: ra?.tier ?? null, mode_before: rb?.mode ?? null,
        mode_after: ra?.mode ?? null, newly_denied: newlyDenied, newly_allowed: newlyAllowed, denied_before: deniedBefore, denied_after: deniedAfter,
      };
    });
    const changedChecks = model.checks.filter((c) => {
      const i = cur.model.byId.get(c.def.id);
      const prev = i === undefined ? undefined : cur.model.checks[i]?.def;
      return !prev || prev.sql !== c.def.sql || prev.pass !== c.def.pass || prev.message !== c.def.message;
    }).map((c) => c.def.id);
    return { evaluated_at: isoTime(now), devices: cur.bySerial.size, resources, changed_checks: changedChecks };
  }

  function deviceJson(m: Model, serial: string, recs: readonly HostRec[]): string {
    const rec = latestRec(recs);
    if (!rec) return '';
    const conflict = recs.length > 1 || rec.info.serialConflict;
    if (!conflict && rec.bundleJson !== undefined) return rec.bundleJson;
    const dev: BundleDevice = { serial, hostname: rec.info.hostname, platform: rec.info.platform, serial_conflict: conflict, tiers: {} };
    if (!conflict) {
      m.tiers.forEach((t, i) => {
        const tr = rec.tiers[i];
        if (!tr) return;
        dev.tiers[t.name] = {
          reasons: tr.reasons.map((r) => ({ check: r.check, status: r.status })),
          fresh_until: Number.isFinite(tr.oldest) ? isoTime(tr.oldest + t.maxAgeMs) : null,
        };
      });
    }
    const json = JSON.stringify(dev);
    if (!conflict) rec.bundleJson = json;
    return json;
  }

  function bundle(): VerdictBundleSnapshot {
    const now = deps.clock.now();
    if (bundleCache && now < bundleCache.validUntil) return bundleCache.snapshot;
    const s = state;
    const m = s.model;
    const tiers: VerdictBundle['tiers'] = {};
    m.tiers.forEach((t) => {
      tiers[t.name] = { max_age_seconds: Math.floor(t.maxAgeMs / 1000), checks: [...t.requiredIds] };
    });
    const resources: VerdictBundle['resources'] = {};
    for (const [name, r] of [...m.resources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) resources[name] = { tier: r.tier, mode: r.mode };
    const checks: VerdictBundle['checks'] = {};
    for (const c of m.checks) checks[c.def.id] = { title: c.def.title, remediation_url: c.def.remediationUrl ?? null };
    s.sortedSerials ??= [...s.bySerial.keys()].sort();
    const devices: string[] = [];
    for (const serial of s.sortedSerials) {
      const json = deviceJson(m, serial, s.bySerial.get(serial) ?? []);
      if (json) devices.push(json);
    }
    const bg: BundleGrant[] = [];
    let validUntil = Infinity;
    for (const list of grants.values()) {
      for (const g of list) {
        if (g.expiresAt === null || g.expiresAt <= now || (g.activatedAt ?? g.createdAt) > now) continue;
        validUntil = Math.min(validUntil, g.expiresAt);
        bg.push({ id: g.id, serial: g.serial, user: g.user, tier: g.tier, reason: g.reason, expires_at: isoTime(g.expiresAt) });
      }
    }
    bg.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Assembled by hand so unchanged devices reuse their cached JSON; same key order as VerdictBundle.
    const json = `{"tiers":${JSON.stringify(tiers)},"resources":${JSON.stringify(resources)},"checks":${JSON.stringify(checks)},`
      + `"devices":[${devices.join(',')}],"break_glass":${JSON.stringify(bg)}}`;
    const snapshot = { etag: `"${sha256Hex(json).slice(0, 32)}"`, json };
    bundleCache = { snapshot, validUntil };
    return snapshot;
  }

  function setActiveGrants(list: readonly BreakGlassGrant[]): void {
    const next = new Map<string, BreakGlassGrant[]>();
    for (const g of list) {
      if (g.status !== 'active') continue;
      const k = grantKey(g.serial, g.user);
      const cur = next.get(k);
      if (cur) cur.push(g);
      else next.set(k, [g]);
    }
    grants = next;
    dirty();
  }

  function removeGrant(id: string): void {
    for (const [k, list] of grants) {
      const rest = list.filter((g) => g.id !== id);
      if (rest.length === list.length) continue;
      if (rest.length) grants.set(k, rest);
      else grants.delete(k);
      dirty();
    }
  }

  function addGrant(g: BreakGlassGrant): void {
    removeGrant(g.id);
    if (g.status !== 'active') return;
    const k = grantKey(g.serial, g.user);
    grants.set(k, [...(grants.get(k) ?? []), g]);
    dirty();
  }

  return {
    setPolicy,
    loadHost: (host, states) => {
      loadHostInto(state, host, states);
      dirty();
    },
    loadHosts: (hosts, states, checkIds) => {
      loadHostsInto(state, hosts, states, checkIds);
      dirty();
    },
    updateHost: (host) => {
      upsertHost(host);
    },
    onResults,
    verdict,
    removeHost,
    invalidate,
    failingOrStaleChecks,
    tierReport,
    bundle,
    dryRun,
    setActiveGrants,
    addGrant,
    removeGrant,
    checks: () => state.model.checks.map((c) => c.def),
    policy: () => (hasPolicy ? state.model.policy : undefined),
    stats: () => {
      let g = 0;
      for (const l of grants.values()) g += l.length;
      return {
        hosts: state.byId.size, serials: state.bySerial.size, checks: state.model.checks.length,
        tiers: state.model.tiers.length, resources: state.model.resources.size, grants: g,
      };
    },
  };
}

/** The most recently seen record of a serial (ties: the lowest host id, so every instance picks the same). */
function latestRec(recs: readonly HostRec[]): HostRec | undefined {
  let best: HostRec | undefined;
  for (const r of recs) {
    if (!best || r.info.lastSeenAt > best.info.lastSeenAt || (r.info.lastSeenAt === best.info.lastSeenAt && r.id < best.id)) best = r;
  }
  return best;
}
