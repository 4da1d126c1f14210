/**
 * The remediation page's service (SPEC §6): builds what the page shows for a signed link (device, every
 * check of the resource's tier from the posture engine's tier report, decision, recheck progress,
 * emergency-access options from the breakglass module) and runs its recheck with a cool-down. It gathers
 * and remembers; what the gathered data means for the page (check list, recheck progress, state) is
 * computed in view.ts. HTTP lives in routes.ts, HTML in render.ts.
 */
import type { Host, Policy } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { AppError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { BreakGlassService } from '../breakglass/service.js';
import type { DeviceLink } from './link.js';
import {
  checkItems,
  idleRecheck,
  maskPerson,
  pageState,
  parseTime,
  recheckProgress,
  stampView,
  type DeviceView,
  type PeopleVerdict,
  type RecheckRequest,
  type RecheckView,
  type TierReportRow,
} from './view.js';

type Awaitable<T> = T | Promise<T>;

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
  /** The device's people (canonical e-mails), for the `not_your_device` page; absent: none known. */
  devicePeople?(serial: string): readonly string[];
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
  /** Called once per status frame the live producers render (for metrics: renders per change, not per page). */
  onLiveRender?(): void;
  /** Most live (SSE) channels open at once (default 2000; 4 per link); beyond that pages poll. */
  maxLiveChannels?: number;
  /** Called once per recheck when its outcome is known (for metrics: fix → access time). */
  onRecheckResult?(result: RecheckResult): void;
}

interface RecheckRecord extends RecheckRequest {
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

export interface PeopleService {
  view(link: DeviceLink): Promise<DeviceView>;
  /** Queues a recheck for the link's device; refuses (conflict) inside the cool-down. */
  recheck(link: DeviceLink): Promise<{ queued: string[]; requestedAt: number; availableAt: number }>;
}

/** The resource a link names, as the page shows it: title, where to continue, the tier's freshness limit. */
function resourceOf(policy: Policy, link: DeviceLink) {
  const res = policy.resources[link.resource];
  const firstHost = res?.hosts[0];
  return {
    tier: res?.tier,
    resourceTitle: res?.title ?? link.resource,
    resourceUrl: firstHost ? `https://${firstHost}/` : null,
    maxAgeMs: (res ? policy.tiers[res.tier] : undefined)?.maxAgeMs ?? null,
  };
}

/** Logs a recheck's outcome and passes it on, once, when it is known. */
function reportOutcome(
  deps: Pick<PeopleDeps, 'log' | 'onRecheckResult'>,
  link: DeviceLink,
  rec: RecheckRecord,
  recheck: RecheckView,
  decision: PeopleVerdict['decision'] | undefined,
  now: number,
): void {
  if (recheck.phase === 'waiting' || rec.reported) return;
  rec.reported = true;
  const outcome: RecheckResult['outcome'] =
    recheck.phase === 'no_answer' ? 'no_answer' : decision === 'allow' ? 'restored' : 'answered';
  const ms = now - rec.requestedAt;
  const { fixed, still } = recheck;
  deps.log.info(
    { event: 'people.recheck_result', serial: link.serial, resource: link.resource, outcome, ms, fixed, still },
    'recheck from the remediation page finished',
  );
  deps.onRecheckResult?.({ serial: link.serial, resource: link.resource, outcome, ms });
}

export function createPeopleService(deps: PeopleDeps): PeopleService {
  const cooldown = deps.recheckCooldownMs ?? 15_000;
  const timeoutMs = deps.recheckTimeoutMs ?? 120_000;
  const rechecks = new Map<string, RecheckRecord>();
  const keyOf = (l: DeviceLink) => `${l.serial}\u0000${l.user}`;

  function prune(now: number): void {
    for (const [k, r] of rechecks) if (r.requestedAt < now - 15 * 60_000) rechecks.delete(k);
  }

  async function view(link: DeviceLink): Promise<DeviceView> {
    const now = deps.clock.now();
    prune(now);
    const { tier, ...resource } = resourceOf(deps.policy(), link);
    const [verdict, host, breakGlass] = await Promise.all([
      deps.verdict(link.serial, link.resource, link.user, now),
      deps.hostBySerial(link.serial),
      deps.breakGlass.eligibility(link.serial, link.user, link.resource),
    ]);
    const rec = rechecks.get(keyOf(link));
    const availableAt = rec ? rec.requestedAt + cooldown : now;
    const decision = verdict?.decision ?? ('deny' as const);
    const wouldDeny = verdict?.would_deny === true;
    const base = { link, ...resource, host, breakGlass, evaluatedAt: now, decision, wouldDeny, devicePeople: [] };
    if (!host) {
      const recheck = idleRecheck(availableAt);
      return stampView({
        ...base,
        state: 'unknown_device',
        checks: [],
        lastReportAt: null,
        recheck,
        grantExpiresAt: null,
      });
    }
    const report = tier !== undefined ? deps.tierReport(link.serial, tier, now) : undefined;
    const checks = checkItems(report, verdict?.reasons ?? []);
    const observed = checks.map((c) => c.observedAt).filter((t): t is number => t !== null);
    const lastReportAt = observed.length > 0 ? Math.max(...observed) : null;
    let recheck = idleRecheck(availableAt);
    if (rec) {
      recheck = recheckProgress(rec, checks, verdict?.decision, now, { timeoutMs, availableAt });
      reportOutcome(deps, link, rec, recheck, verdict?.decision, now);
    }
    const bgActive = verdict?.break_glass ?? null;
    const grantExpiresAt = bgActive ? parseTime(bgActive.expires_at) : (breakGlass?.active?.expiresAt ?? null);
    const state = pageState({ verdict, wouldDeny, breakGlass, recheck, checks });
    const devicePeople =
      state === 'not_your_device' ? [...new Set((deps.devicePeople?.(link.serial) ?? []).map(maskPerson))] : [];
    return stampView({ ...base, state, checks, lastReportAt, recheck, grantExpiresAt, devicePeople });
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
