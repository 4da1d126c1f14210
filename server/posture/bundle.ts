/**
 * The verdict bundle (SPEC: every tier, resource, check, device and active grant, for gateways that
 * decide locally) as JSON with its ETag. Built on demand and cached until the state or the grants
 * change or the first grant in it expires; each device's entry is cached on its record, so a rebuild
 * serializes only the devices that changed.
 */
import type { BundleDevice, BundleGrant, VerdictBundle, VerdictBundleSnapshot } from '../domain/verdict.js';
import { sha256Hex } from '../shared/crypto.js';
import type { State } from './fleet.js';
import type { GrantIndex } from './grants.js';
import { latestRec, type HostRec } from './host-record.js';
import { isoTime } from './iso-time.js';
import type { Model } from './model.js';

export interface BundleCache {
  /** The bundle of `s` and `grants` at `now` (the cached one while neither changed nor a grant expired). */
  get(s: State, grants: GrantIndex, now: number): VerdictBundleSnapshot;
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

function deviceJson(m: Model, serial: string, recs: readonly HostRec[]): string {
  const rec = latestRec(recs);
  if (!rec) return '';
  const conflict = recs.length > 1 || rec.info.serialConflict;
  if (!conflict && rec.bundleJson !== undefined) return rec.bundleJson;
  const dev: BundleDevice = {
    serial,
    hostname: rec.info.hostname,
    platform: rec.info.platform,
    serial_conflict: conflict,
    tiers: {},
  };
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

/** The grants active at `now`, sorted by id, and when the first of them expires (Infinity if none). */
function activeGrants(grants: GrantIndex, now: number): { list: BundleGrant[]; validUntil: number } {
  const list: BundleGrant[] = [];
  let validUntil = Infinity;
  for (const perKey of grants.all()) {
    for (const g of perKey) {
      if (g.expiresAt === null || g.expiresAt <= now || (g.activatedAt ?? g.createdAt) > now) continue;
      validUntil = Math.min(validUntil, g.expiresAt);
      const { id, serial, user, tier, reason } = g;
      list.push({ id, serial, user, tier, reason, expires_at: isoTime(g.expiresAt) });
    }
  }
  list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { list, validUntil };
}

interface Built {
  snapshot: VerdictBundleSnapshot;
  /** When the first grant in it expires. */
  validUntil: number;
}

function buildBundle(s: State, grants: GrantIndex, now: number): Built {
  const m = s.model;
  const tiers: VerdictBundle['tiers'] = {};
  for (const t of m.tiers) {
    tiers[t.name] = {
      max_age_seconds: Math.floor(t.maxAgeMs / 1000),
      checks: [...t.requiredIds],
      // the bundle carries no people: a gateway deciding locally asks GET /api/v1/verdict for these tiers
      ...(t.requireDeviceUser ? { require_device_user: true as const } : {}),
    };
  }
  const resources: VerdictBundle['resources'] = {};
  for (const [name, r] of [...m.resources].sort(byKey)) resources[name] = { tier: r.tier, mode: r.mode };
  const checks: VerdictBundle['checks'] = {};
  for (const c of m.checks) checks[c.def.id] = { title: c.def.title, remediation_url: c.def.remediationUrl ?? null };
  s.sortedSerials ??= [...s.bySerial.keys()].sort();
  const devices: string[] = [];
  for (const serial of s.sortedSerials) {
    const json = deviceJson(m, serial, s.bySerial.get(serial) ?? []);
    if (json) devices.push(json);
  }
  const bg = activeGrants(grants, now);
  // Assembled by hand so unchanged devices reuse their cached JSON; same key order as VerdictBundle.
  const json =
    `{"tiers":${JSON.stringify(tiers)},"resources":${JSON.stringify(resources)},` +
    `"checks":${JSON.stringify(checks)},"devices":[${devices.join(',')}],"break_glass":${JSON.stringify(bg.list)}}`;
  return { snapshot: { etag: `"${sha256Hex(json).slice(0, 32)}"`, json }, validUntil: bg.validUntil };
}

export function createBundleCache(): BundleCache {
  let cached: (Built & { state: State; changes: number; grantChanges: number }) | undefined;
  return {
    get(s, grants, now) {
      if (
        cached &&
        cached.state === s &&
        cached.changes === s.changes &&
        cached.grantChanges === grants.changes &&
        now < cached.validUntil
      )
        return cached.snapshot;
      const { snapshot, validUntil } = buildBundle(s, grants, now);
      cached = { snapshot, validUntil, state: s, changes: s.changes, grantChanges: grants.changes };
      return snapshot;
    },
  };
}
