/**
 * The remediation page's service (SPEC §6): builds what the page shows for a signed link (device, every
 * check of the resource's tier from the posture engine's tier report, decision, recheck progress,
 * emergency-access options from the breakglass module) and runs its recheck with a cool-down. HTTP lives
 * in routes.ts, HTML in render.ts.
 */
import type { Host, Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { sha256Hex } from '../shared/crypto.js';
import { AppError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { BreakGlassService, Eligibility } from '../breakglass/service.js';
import type { DeviceLink } from './link.js';

type Awaitable<T> = T | Promise<T>;

/** One reason of a verdict, as in SPEC §4 (only the fields the page reads). */
export interface PeopleReason {
  check: string;
  status: string;
  title?: string;
  message?: string;
  remediation_url?: string | null;
  observed_at?: string | null;
}

/** The verdict JSON of SPEC §4, narrowed to what the page reads (server/domain/verdict.ts fits it). */
export interface PeopleVerdict {
  decision: 'allow' | 'deny';
  enforced?: boolean;
  would_deny?: boolean;
  tier?: string;
  reasons: readonly PeopleReason[];
  break_glass: { id: string; expires_at: string; reason: string } | null;
  evaluated_at?: string;
  data_age_seconds?: number | null;
}

/** One required check of a tier for one device (the posture engine's TierCheckReport fits). */
export interface TierReportRow {
  check: string;
  title: string;
  /** pass | fail | unknown | error | stale | missing | not_applicable */
  status: string;
  message: string | null;
  remediation_url: string | null;
  /** Epoch ms. */
  observed_at: number | null;
  first_failed_at: number | null;
}

export interface PeopleDeps {
  /** The current verdict (SPEC §4 shape); undefined when the resource is unknown. */
  verdict(serial: string, resource: string, user: string, now: number): Awaitable<PeopleVerdict | undefined>;
  /** The enrolled device with this serial (the first, if several), or undefined. */
  hostBySerial(serial: string): Awaitable<Host | undefined>;
  /**
   * Every required check of a tier and where the device stands, from the posture engine's memory
   * (PostureEngine.tierReport fits); undefined when the engine knows no such tier or device.
   */
  tierReport(serial: string, tier: string, now: number): readonly TierReportRow[] | undefined;
  /**
   * A person opened the page for this device: the agent may be asked to poll fast (osquery `accelerate`)
   * while they fix things, so a later Recheck is picked up within seconds instead of at the next
   * regular poll.
   */
  onPageView?(serial: string): void;
  /** Queues the host's failing checks as distributed queries with accelerate (same as the admin recheck). */
  recheck(serial: string, actor: string): Promise<{ queued: string[] }>;
  breakGlass: BreakGlassService;
  clock: Clock;
  log: Logger;
  hmacKey: string | Buffer;
  publicUrl: string;
  policy(): Policy;
  /** Who people contact; shown in the footer of every state. */
  help?: { text?: string; url?: string; enrollGuideUrl?: string };
  /** Minimum time between two rechecks by the same serial+user (default 15 s). */
  recheckCooldownMs?: number;
  /** After this long without an answer the page says the laptop did not answer (default 120 s). */
  recheckTimeoutMs?: number;
  /** How often the live channel re-reads the status (default 1 s). */
  livePollMs?: number;
  /** Most live (SSE) channels open at once (default 2000; 4 per link); beyond that pages poll. */
  maxLiveChannels?: number;
  /** Called once per recheck when its outcome is known (for metrics: fix → access time). */
  onRecheckResult?(result: RecheckResult): void;
}

export type ItemStatus = 'fail' | 'stale' | 'error' | 'unknown' | 'pass';

export interface CheckItem {
  id: string;
  title: string;
  status: ItemStatus;
  message: string;
  remediationUrl: string | null;
  observedAt: number | null;
  firstFailedAt: number | null;
  /** Set when a recheck showed this check fixed. */
  fixedAt: number | null;
}

export type RecheckPhase = 'idle' | 'waiting' | 'answered' | 'no_answer';

export interface RecheckView {
  phase: RecheckPhase;
  requestedAt: number | null;
  /** When the next recheck may be requested. */
  availableAt: number;
  fixed: string[];
  still: string[];
}

export type PageState =
  | 'deny'
  | 'stale'
  | 'cant_check'
  | 'checking'
  | 'partly_fixed'
  | 'still_failing'
  | 'no_answer'
  | 'restored'
  | 'heads_up'
  | 'granted'
  | 'pending'
  | 'unknown_device';

export interface DeviceView {
  state: PageState;
  link: DeviceLink;
  resourceTitle: string;
  resourceUrl: string | null;
  host: Host | undefined;
  decision: 'allow' | 'deny';
  wouldDeny: boolean;
  checks: CheckItem[];
  lastReportAt: number | null;
  maxAgeMs: number | null;
  recheck: RecheckView;
  breakGlass: Eligibility | undefined;
  grantExpiresAt: number | null;
  evaluatedAt: number;
  /** Short reference people give IT (changes with the decision state). */
  ref: string;
  /** Changes whenever something the page shows (other than relative times) changes. */
  version: string;
}

interface RecheckRecord {
  requestedAt: number;
  queued: string[];
  failingBefore: string[];
  /** Set once the outcome was reported (logged and passed to onRecheckResult). */
  reported?: boolean;
}

/** How a recheck from the page ended, and how long it took from the click (fix → access when restored). */
export interface RecheckResult {
  serial: string;
  resource: string;
  outcome: 'restored' | 'answered' | 'no_answer';
  ms: number;
}

const ORDER: Record<ItemStatus, number> = { fail: 0, stale: 1, error: 2, unknown: 3, pass: 4 };

function reasonStatus(s: string): ItemStatus {
  if (s === 'fail' || s === 'stale' || s === 'error' || s === 'pass') return s;
  return 'unknown';
}

const parseTime = (s: string | null | undefined): number | null => {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
};

/** True when a result observed at `observedAt` (often whole seconds) answers a request made at `requestedAt`. */
const answers = (observedAt: number | null, requestedAt: number): boolean =>
  observedAt !== null && observedAt >= Math.floor(requestedAt / 1000) * 1000;

export interface PeopleService {
  view(link: DeviceLink): Promise<DeviceView>;
  /** Queues a recheck for the link's device; refuses (conflict) inside the cool-down. */
  recheck(link: DeviceLink): Promise<{ queued: string[]; requestedAt: number; availableAt: number }>;
}

export function createPeopleService(deps: PeopleDeps): PeopleService {
  const cooldown = deps.recheckCooldownMs ?? 15_000;
  const timeout = deps.recheckTimeoutMs ?? 120_000;
  const rechecks = new Map<string, RecheckRecord>();
  const keyOf = (l: DeviceLink) => `${l.serial}\u0000${l.user}`;

  function prune(now: number): void {
    for (const [k, r] of rechecks) if (r.requestedAt < now - 15 * 60_000) rechecks.delete(k);
  }

  function checksFromReport(rows: readonly TierReportRow[], reasons: readonly PeopleReason[]): CheckItem[] {
    const reasonOf = new Map(reasons.map((r) => [r.check, r]));
    const items: CheckItem[] = [];
    rows.forEach((row) => {
      if (row.status === 'not_applicable') return;
      const reason = reasonOf.get(row.check);
      items.push({
        id: row.check,
        title: row.title,
        status: reasonStatus(row.status),
        message: row.message ?? reason?.message ?? '',
        remediationUrl: row.remediation_url ?? reason?.remediation_url ?? null,
        observedAt: row.observed_at,
        firstFailedAt: row.first_failed_at,
        fixedAt: null,
      });
    });
    const index = new Map(items.map((c, i) => [c.id, i]));
    return items.sort((a, b) => ORDER[a.status] - ORDER[b.status] || (index.get(a.id) ?? 0) - (index.get(b.id) ?? 0));
  }

  /** Without a report (the engine knows no such tier or device): the verdict's reasons as they stand. */
  function checksFromReasons(reasons: readonly PeopleReason[]): CheckItem[] {
    return reasons
      .filter((r) => r.check !== 'unknown_device' && r.check !== 'serial_conflict')
      .map((r): CheckItem => ({
        id: r.check,
        title: r.title ?? r.check,
        status: reasonStatus(r.status),
        message: r.message ?? '',
        remediationUrl: r.remediation_url ?? null,
        observedAt: parseTime(r.observed_at),
        firstFailedAt: null,
        fixedAt: null,
      }))
      .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.title.localeCompare(b.title));
  }

  function tierItems(link: DeviceLink, tier: string | undefined, reasons: readonly PeopleReason[], now: number) {
    const report = tier !== undefined ? deps.tierReport(link.serial, tier, now) : undefined;
    return report ? checksFromReport(report, reasons) : checksFromReasons(reasons);
  }

  async function view(link: DeviceLink): Promise<DeviceView> {
    const now = deps.clock.now();
    prune(now);
    const policy = deps.policy();
    const res = policy.resources[link.resource];
    const resourceTitle = res?.title ?? link.resource;
    const firstHost = res?.hosts[0];
    const resourceUrl = firstHost ? `https://${firstHost}/` : null;
    const tier = res ? policy.tiers[res.tier] : undefined;
    const maxAgeMs = tier?.maxAgeMs ?? null;
    const [verdict, host, breakGlass] = await Promise.all([
      deps.verdict(link.serial, link.resource, link.user, now),
      deps.hostBySerial(link.serial),
      deps.breakGlass.eligibility(link.serial, link.user, link.resource),
    ]);
    const rec = rechecks.get(keyOf(link));
    const availableAt = rec ? rec.requestedAt + cooldown : now;
    const base = {
      link,
      resourceTitle,
      resourceUrl,
      host,
      maxAgeMs,
      breakGlass,
      evaluatedAt: now,
      decision: verdict?.decision ?? ('deny' as const),
      wouldDeny: verdict?.would_deny === true,
    };
    if (!host) {
      const recheck: RecheckView = { phase: 'idle', requestedAt: null, availableAt, fixed: [], still: [] };
      return finish({
        ...base,
        state: 'unknown_device',
        checks: [],
        lastReportAt: null,
        recheck,
        grantExpiresAt: null,
      });
    }
    const checks = tierItems(link, res?.tier, verdict?.reasons ?? [], now);
    const observed = checks.map((c) => c.observedAt).filter((t): t is number => t !== null);
    const lastReportAt = observed.length > 0 ? Math.max(...observed) : null;

    // Recheck progress: never call anything "still failing" before a result newer than the request.
    let recheck: RecheckView = { phase: 'idle', requestedAt: null, availableAt, fixed: [], still: [] };
    if (rec) {
      const byId = new Map(checks.map((c) => [c.id, c]));
      const tierIds = new Set(checks.map((c) => c.id));
      let watch = rec.queued.filter((id) => tierIds.has(id));
      if (watch.length === 0) watch = rec.failingBefore;
      const answered =
        verdict?.decision === 'allow' ||
        watch.every((id) => answers(byId.get(id)?.observedAt ?? null, rec.requestedAt));
      const phase: RecheckPhase = answered ? 'answered' : now - rec.requestedAt >= timeout ? 'no_answer' : 'waiting';
      const fixed = answered ? rec.failingBefore.filter((id) => byId.get(id)?.status === 'pass') : [];
      const still = answered ? rec.failingBefore.filter((id) => byId.get(id)?.status !== 'pass') : [];
      for (const id of fixed) {
        const c = byId.get(id);
        if (c) c.fixedAt = c.observedAt;
      }
      recheck = { phase, requestedAt: rec.requestedAt, availableAt, fixed, still };
      if (phase !== 'waiting' && !rec.reported) {
        rec.reported = true;
        const outcome: RecheckResult['outcome'] =
          phase === 'no_answer' ? 'no_answer' : verdict?.decision === 'allow' ? 'restored' : 'answered';
        const ms = now - rec.requestedAt;
        deps.log.info(
          { event: 'people.recheck_result', serial: link.serial, resource: link.resource, outcome, ms, fixed, still },
          'recheck from the remediation page finished',
        );
        deps.onRecheckResult?.({ serial: link.serial, resource: link.resource, outcome, ms });
      }
    }

    const bgActive = verdict?.break_glass ?? null;
    const grantExpiresAt = bgActive ? parseTime(bgActive.expires_at) : (breakGlass?.active?.expiresAt ?? null);
    const problems = checks.filter((c) => c.status !== 'pass');
    let state: PageState;
    if (bgActive || breakGlass?.active) state = 'granted';
    else if (verdict?.decision === 'allow') state = base.wouldDeny ? 'heads_up' : 'restored';
    else if (breakGlass?.pending) state = 'pending';
    else if (recheck.phase === 'waiting') state = 'checking';
    else if (recheck.phase === 'no_answer') state = 'no_answer';
    else if (recheck.phase === 'answered' && recheck.fixed.length > 0) state = 'partly_fixed';
    else if (recheck.phase === 'answered' && recheck.still.length > 0) state = 'still_failing';
    else if (problems.some((c) => c.status === 'fail')) state = 'deny';
    else if (problems.some((c) => c.status === 'stale')) state = 'stale';
    else if (problems.length > 0) state = 'cant_check';
    else state = 'deny';
    return finish({ ...base, state, checks, lastReportAt, recheck, grantExpiresAt });
  }

  function finish(v: Omit<DeviceView, 'ref' | 'version'>): DeviceView {
    const essence = {
      state: v.state,
      decision: v.decision,
      wouldDeny: v.wouldDeny,
      checks: v.checks.map((c) => [c.id, c.status, c.observedAt, c.message]),
      recheck: [v.recheck.phase, v.recheck.requestedAt, v.recheck.fixed, v.recheck.still],
      grant: [
        v.breakGlass?.active?.id,
        v.breakGlass?.active?.expiresAt,
        v.breakGlass?.pending?.id,
        v.breakGlass?.declined?.id,
        v.grantExpiresAt,
      ],
      lastReportAt: v.lastReportAt,
    };
    const version = sha256Hex(JSON.stringify(essence)).slice(0, 16);
    const ref = sha256Hex(
      `${v.link.serial}|${v.link.user}|${v.link.resource}|${v.state}|${Math.floor(v.evaluatedAt / 60_000)}`,
    )
      .slice(0, 8)
      .toUpperCase();
    return { ...v, ref, version };
  }

  async function recheck(link: DeviceLink): Promise<{ queued: string[]; requestedAt: number; availableAt: number }> {
    const now = deps.clock.now();
    const key = keyOf(link);
    const prev = rechecks.get(key);
    if (prev && now < prev.requestedAt + cooldown) {
      const wait = Math.ceil((prev.requestedAt + cooldown - now) / 1000);
      throw new AppError('conflict', `You can check again in ${wait} s.`, undefined, { retryAfterS: wait });
    }
    const before = await view(link);
    const failingBefore = before.checks.filter((c) => c.status !== 'pass').map((c) => c.id);
    // Reserve the slot before awaiting, so a double click cannot queue twice.
    rechecks.set(key, { requestedAt: now, queued: [], failingBefore });
    try {
      const { queued } = await deps.recheck(link.serial, `${link.user} (remediation page)`);
      rechecks.set(key, { requestedAt: now, queued, failingBefore });
      deps.log.info(
        { event: 'people.recheck', serial: link.serial, user: link.user, resource: link.resource, queued },
        'recheck requested from the remediation page',
      );
      return { queued, requestedAt: now, availableAt: now + cooldown };
    } catch (e) {
      if (prev) rechecks.set(key, prev);
      else rechecks.delete(key);
      deps.log.warn({ event: 'people.recheck_failed', serial: link.serial, err: errorMessage(e) }, 'recheck failed');
      throw e;
    }
  }

  return { view, recheck };
}
