/**
 * The verdict vocabulary (SPEC §4) and the port the gateway reads. The gateway depends on this file
 * only, never on the posture engine that implements it, so the decision path stays a lookup.
 * Wire names are snake_case here because these objects are the JSON the gateway API returns as is.
 */
import type { DeviceReason, Platform, ReasonStatus, ResourceMode } from './types.js';

export type Decision = 'allow' | 'deny';

/** Why a verdict is not a plain allow. `check` is the check id, or the device reason for device-level reasons. */
export interface VerdictReason {
  check: string;
  status: Exclude<ReasonStatus, 'pass'> | DeviceReason;
  title: string;
  message: string;
  remediation_url: string | null;
  /** ISO time of the result the reason is based on; null when there is none. */
  observed_at: string | null;
}

export interface BreakGlassRef {
  id: string;
  expires_at: string;
  reason: string;
}

export interface VerdictDevice {
  hostname: string;
  platform: Platform;
  last_seen_at: string;
}

/**
 * The answer of GET /api/v1/verdict.
 * - `decision`: what the gateway does.
 * - `enforced`: the resource is in enforce mode (false in monitor mode).
 * - `would_deny`: the device's posture alone denies (before monitor mode and break glass are applied),
 *   so a monitor-mode allow or a break-glass allow still says true, with the reasons.
 */
export interface Verdict {
  decision: Decision;
  enforced: boolean;
  would_deny: boolean;
  resource: string;
  tier: string;
  serial: string;
  user: string | null;
  reasons: readonly VerdictReason[];
  break_glass: BreakGlassRef | null;
  device: VerdictDevice | null;
  /** Signed link to the remediation page; set when the posture would deny. */
  remediation_page: string | null;
  evaluated_at: string;
  /** Age of the oldest result among the tier's required checks; null without data. */
  data_age_seconds: number | null;
}

/** A verdict, or the typed not-found for a resource the policy does not name (→ 404 / forward-auth deny). */
export type VerdictLookup = { kind: 'verdict'; verdict: Verdict } | { kind: 'unknown_resource'; resource: string };

// ───────────────────────────── bundle (GET /api/v1/verdicts/bundle) ─────────────────────────────

/**
 * One device's verdict inputs for one tier. A gateway decides locally: deny if `serial_conflict`;
 * else allow iff `reasons` is empty and (`fresh_until` is null or now <= `fresh_until`); past
 * `fresh_until` the oldest required result is stale. `fresh_until` is null only when no required
 * check applies to the device (nothing can go stale; a required check without data is already an
 * `unknown` reason). Monitor mode and break glass are applied on top; unknown serials deny.
 */
export interface BundleTierInputs {
  /** Why the tier does not pass (titles and links are in the bundle's `checks`). */
  reasons: BundleReason[];
  fresh_until: string | null;
}

export interface BundleReason {
  check: string;
  status: VerdictReason['status'];
}

export interface BundleDevice {
  serial: string;
  hostname: string;
  platform: Platform;
  serial_conflict: boolean;
  tiers: Record<string, BundleTierInputs>;
}

export interface BundleGrant {
  id: string;
  serial: string;
  user: string;
  tier: string;
  reason: string;
  expires_at: string;
}

/** The parsed shape of the bundle. Ordered deterministically (serials sorted), so equal content ⇒ equal ETag. */
export interface VerdictBundle {
  /**
   * `require_device_user`: present (true) on tiers that pair the person with the device. The bundle does not
   * carry the device's people, so a gateway deciding locally must ask GET /api/v1/verdict for such tiers.
   */
  tiers: Record<string, { max_age_seconds: number; checks: string[]; require_device_user?: true }>;
  resources: Record<string, { tier: string; mode: ResourceMode }>;
  /** Every loaded check's display data, once (device reasons carry only id and status). */
  checks: Record<string, { title: string; remediation_url: string | null }>;
  devices: BundleDevice[];
  break_glass: BundleGrant[];
}

/** The serialized bundle and its ETag (a content hash, quoted, stable across restarts and instances). */
export interface VerdictBundleSnapshot {
  etag: string;
  /** The whole JSON text (decoded from `parts` on first use). */
  readonly json: string;
  /**
   * The JSON text as UTF-8 bytes in pieces (a chunk of devices each), whose concatenation is `json`: the
   * gateway API writes them one at a time, so a 100k-device bundle is never encrypted in one call; bytes,
   * not strings, so that the cached bundle lives outside the JS heap and is written without conversion.
   */
  parts: readonly Uint8Array[];
}

/** What the gateway reads: precomputed verdicts (a map lookup plus a small pure function). */
export interface VerdictSource {
  verdict(serial: string, resource: string, user: string | null, now: number): VerdictLookup;
  /** The bundle, rebuilt (when stale) in chunks that yield to the event loop (what the gateway serves). */
  bundleInChunks(): Promise<VerdictBundleSnapshot>;
}
