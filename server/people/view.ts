/**
 * What the remediation page shows, as pure functions of what the service gathered: the check list (from
 * the posture engine's tier report, or the verdict's reasons without one), the progress of a recheck
 * (never "still failing" before a result newer than the request), the page state, and the reference and
 * version stamped on a view. The types here are the view the renderer and the live channel read.
 */
import type { Host } from '../domain/types.js';
import { sha256Hex } from '../shared/crypto.js';
import type { Eligibility } from '../breakglass/service.js';
import type { DeviceLink } from './link.js';

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
  /** The failing-state title (the check's `fail_title`), when it has one. */
  fail_title?: string | null;
  /** pass | fail | unknown | error | stale | missing | not_applicable */
  status: string;
  message: string | null;
  remediation_url: string | null;
  /** Epoch ms. */
  observed_at: number | null;
  first_failed_at: number | null;
}

export type ItemStatus = 'fail' | 'stale' | 'error' | 'unknown' | 'pass';

export interface CheckItem {
  id: string;
  /** The desired state ("FileVault disk encryption is on"). */
  title: string;
  /** The failing state ("FileVault is off"), when the check has one. */
  failTitle: string | null;
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
  | 'unknown_device'
  | 'not_your_device';

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
  /**
   * `not_your_device`: the device's people as the page may show them (maskPerson: first letter and
   * domain), to say whose device it is without handing out their addresses; else empty.
   */
  devicePeople: string[];
  breakGlass: Eligibility | undefined;
  grantExpiresAt: number | null;
  evaluatedAt: number;
  /** Short reference people give IT (changes with the decision state). */
  ref: string;
  /** Changes whenever something the page shows (other than relative times) changes. */
  version: string;
}

/** A recheck requested from the page: when, what was queued, what failed before it. */
export interface RecheckRequest {
  requestedAt: number;
  queued: string[];
  failingBefore: string[];
}

const ORDER: Record<ItemStatus, number> = { fail: 0, stale: 1, error: 2, unknown: 3, pass: 4 };

function reasonStatus(s: string): ItemStatus {
  if (s === 'fail' || s === 'stale' || s === 'error' || s === 'pass') return s;
  return 'unknown';
}

export const parseTime = (s: string | null | undefined): number | null => {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
};

/** True when a result observed at `observedAt` (often whole seconds) answers a request made at `requestedAt`. */
const answers = (observedAt: number | null, requestedAt: number): boolean =>
  observedAt !== null && observedAt >= Math.floor(requestedAt / 1000) * 1000;

function checksFromReport(rows: readonly TierReportRow[], reasons: readonly PeopleReason[]): CheckItem[] {
  const reasonOf = new Map(reasons.map((r) => [r.check, r]));
  const items: CheckItem[] = [];
  rows.forEach((row) => {
    if (row.status === 'not_applicable') return;
    const reason = reasonOf.get(row.check);
    items.push({
      id: row.check,
      title: row.title,
      failTitle: row.fail_title ?? null,
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
    .filter((r) => r.check !== 'unknown_device' && r.check !== 'serial_conflict' && r.check !== 'device_user_mismatch')
    .map((r): CheckItem => ({
      id: r.check,
      title: r.title ?? r.check,
      failTitle: null,
      status: reasonStatus(r.status),
      message: r.message ?? '',
      remediationUrl: r.remediation_url ?? null,
      observedAt: parseTime(r.observed_at),
      firstFailedAt: null,
      fixedAt: null,
    }))
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.title.localeCompare(b.title));
}

/** The page's check list: every applicable check of the tier report, failing first; else the reasons. */
export function checkItems(
  report: readonly TierReportRow[] | undefined,
  reasons: readonly PeopleReason[],
): CheckItem[] {
  return report ? checksFromReport(report, reasons) : checksFromReasons(reasons);
}

/** The checks that do not pass (the page's problems). */
export const problemsOf = (v: Pick<DeviceView, 'checks'>): CheckItem[] => v.checks.filter((c) => c.status !== 'pass');

/**
 * The page's problems counted apart: `fixes` fail (the person has something to fix), `checks` only need
 * a fresh or first result from the laptop (stale, not checked yet, could not be checked).
 */
export function problemCounts(v: Pick<DeviceView, 'checks'>): { fixes: number; checks: number } {
  const problems = problemsOf(v);
  const fixes = problems.filter((c) => c.status === 'fail').length;
  return { fixes, checks: problems.length - fixes };
}

/** How a check is titled where it is shown: a failing check by its failing state when it has one. */
export const shownTitle = (c: Pick<CheckItem, 'status' | 'title' | 'failTitle'>): string =>
  c.status === 'fail' ? (c.failTitle ?? c.title) : c.title;

export const idleRecheck = (availableAt: number): RecheckView => ({
  phase: 'idle',
  requestedAt: null,
  availableAt,
  fixed: [],
  still: [],
});

/**
 * Where a recheck stands: answered once every watched check has a result newer than the request (or
 * access is back), no_answer after `timeoutMs`, else waiting. Marks the checks it shows fixed.
 */
export function recheckProgress(
  rec: RecheckRequest,
  checks: CheckItem[],
  decision: 'allow' | 'deny' | undefined,
  now: number,
  timing: { timeoutMs: number; availableAt: number },
): RecheckView {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const tierIds = new Set(checks.map((c) => c.id));
  let watch = rec.queued.filter((id) => tierIds.has(id));
  if (watch.length === 0) watch = rec.failingBefore;
  const answered =
    decision === 'allow' || watch.every((id) => answers(byId.get(id)?.observedAt ?? null, rec.requestedAt));
  const phase: RecheckPhase = answered
    ? 'answered'
    : now - rec.requestedAt >= timing.timeoutMs
      ? 'no_answer'
      : 'waiting';
  const fixed = answered ? rec.failingBefore.filter((id) => byId.get(id)?.status === 'pass') : [];
  const still = answered ? rec.failingBefore.filter((id) => byId.get(id)?.status !== 'pass') : [];
  for (const id of fixed) {
    const c = byId.get(id);
    if (c) c.fixedAt = c.observedAt;
  }
  return { phase, requestedAt: rec.requestedAt, availableAt: timing.availableAt, fixed, still };
}

/** The page state, in order of precedence: emergency access, access back, approval pending, recheck, checks. */
export function pageState(v: {
  verdict: PeopleVerdict | undefined;
  wouldDeny: boolean;
  breakGlass: Eligibility | undefined;
  recheck: RecheckView;
  checks: readonly CheckItem[];
}): PageState {
  const { verdict, breakGlass, recheck } = v;
  const problems = v.checks.filter((c) => c.status !== 'pass');
  if (verdict?.break_glass || breakGlass?.active) return 'granted';
  if (verdict?.decision === 'allow') return v.wouldDeny ? 'heads_up' : 'restored';
  // the person is not one of the device's people: nothing on this device fixes that, and break glass does not
  if (verdict?.reasons[0]?.status === 'device_user_mismatch') return 'not_your_device';
  if (breakGlass?.pending) return 'pending';
  if (recheck.phase === 'waiting') return 'checking';
  if (recheck.phase === 'no_answer') return 'no_answer';
  if (recheck.phase === 'answered' && recheck.fixed.length > 0) return 'partly_fixed';
  if (recheck.phase === 'answered' && recheck.still.length > 0) return 'still_failing';
  if (problems.some((c) => c.status === 'fail')) return 'deny';
  if (problems.some((c) => c.status === 'stale')) return 'stale';
  if (problems.length > 0) return 'cant_check';
  return 'deny';
}

/** Stamps a view with its version (what the page shows) and its reference for IT (per state and minute). */
export function stampView(v: Omit<DeviceView, 'ref' | 'version'>): DeviceView {
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
    devicePeople: v.devicePeople,
  };
  const version = sha256Hex(JSON.stringify(essence)).slice(0, 16);
  const ref = sha256Hex(
    `${v.link.serial}|${v.link.user}|${v.link.resource}|${v.state}|${Math.floor(v.evaluatedAt / 60_000)}`,
  )
    .slice(0, 8)
    .toUpperCase();
  return { ...v, ref, version };
}

/**
 * A person as the remediation page shows them to someone who is not one of the device's people: the first
 * character of the address and its domain (`b•••@example.com`). Enough to recognise a colleague's device,
 * not a list of addresses for whoever holds a link.
 */
export function maskPerson(person: string): string {
  const at = person.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${person.slice(0, 1)}•••${person.slice(at)}`;
}
