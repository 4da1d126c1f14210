/**
 * The verdict bundle (SPEC: every tier, resource, check, device and active grant, for gateways that
 * decide locally) as JSON with its ETag. Built on demand and cached until the state or the grants
 * change or the first grant in it expires; each device's entry is cached on its record, so a rebuild
 * serializes only the devices that changed. A rebuild (in chunks) keeps its chunks apart (`parts`) for the
 * gateway API to write one at a time.
 *
 * Memory at 100k devices (heap snapshot): the bundle was a quarter of the live heap (~87 MB of 374),
 * its text held twice, and in V8's costliest form: each device's cached entry as the tree of small
 * pieces JSON.stringify answers (a header per piece), and the parts as ~160 KB strings, each a separate
 * large-object page that every young-generation collection walks. Now an entry is kept as one flat
 * string, and the parts as UTF-8 bytes outside the JS heap (written to the socket as they are).
 */
import type { BundleDevice, BundleGrant, VerdictBundle, VerdictBundleSnapshot } from '../domain/verdict.js';
import { createHash } from 'node:crypto';
import { oneByte } from '../shared/one-byte.js';
import { yieldToLoop } from '../shared/turns.js';
import type { State } from './fleet.js';
import type { GrantIndex } from './grants.js';
import { latestRec, type HostRec } from './host-record.js';
import { isoTime } from './iso-time.js';
import type { Model } from './model.js';

export interface BundleCache {
  /**
   * The bundle of the state and `grants` at `now` (the cached one while neither changed nor a grant
   * expired), rebuilt (when stale) in chunks of devices that yield to the event loop, so a rebuild at
   * 100k devices does not stall decisions; concurrent callers share one rebuild. Each device's entry is
   * as of the moment its chunk ran (a change during the rebuild makes the next call rebuild again).
   */
  getInChunks(state: () => State, grants: GrantIndex, now: () => number): Promise<VerdictBundleSnapshot>;
}

/** Devices serialized between two yields of a chunked rebuild. */
export const BUNDLE_CHUNK = 500;

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
      const reasons = rec.tierReasons[i];
      if (!reasons) return;
      const oldest = rec.tierOldest[i] ?? Infinity;
      dev.tiers[t.name] = {
        reasons: reasons.map((r) => ({ check: r.check, status: r.status })),
        fresh_until: Number.isFinite(oldest) ? isoTime(oldest + t.maxAgeMs) : null,
      };
    });
  }
  // flat (and one byte per character when it can be): the string JSON.stringify answers is a tree of pieces
  const json = oneByte(JSON.stringify(dev));
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

/** The parts of the bundle before its devices (tiers, resources, checks). */
function bundleHead(m: Model): string {
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
  // Assembled by hand so unchanged devices reuse their cached JSON; same key order as VerdictBundle.
  const [t, r, c] = [tiers, resources, checks].map((x) => JSON.stringify(x));
  return `{"tiers":${t},"resources":${r},"checks":${c},"devices":[`;
}

/** The device entries of `serials` [from, to) in bundle order, comma-separated ('' when none). */
function deviceSlice(s: State, serials: readonly string[], from: number, to: number): string {
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const serial = serials[i] ?? '';
    const json = deviceJson(s.model, serial, s.bySerial.get(serial) ?? []);
    if (json) out.push(json);
  }
  return out.join(',');
}

const tailOf = (list: BundleGrant[]): string => `],"break_glass":${JSON.stringify(list)}}`;
const etagOf = (hex: string): string => `"${hex.slice(0, 32)}"`;

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A snapshot of the JSON in `parts`; the whole text is decoded only when something asks for it. */
function snapshotOf(etag: string, parts: readonly Buffer[]): VerdictBundleSnapshot {
  let json: string | undefined;
  return {
    etag,
    parts,
    get json() {
      json ??= Buffer.concat(parts).toString('utf8');
      return json;
    },
  };
}

/** The bundle of `s`, built and hashed a chunk of devices at a time, yielding in between. */
async function buildInChunks(s: State, grants: GrantIndex, now: () => number): Promise<Built> {
  const head = utf8(bundleHead(s.model));
  s.sortedSerials ??= [...s.bySerial.keys()].sort();
  const serials = s.sortedSerials; // kept: a serial appearing meanwhile drops s.sortedSerials
  const hash = createHash('sha256').update(head);
  const parts: Buffer[] = [head];
  let first = true;
  for (let i = 0; i < serials.length; i += BUNDLE_CHUNK) {
    const part = deviceSlice(s, serials, i, Math.min(serials.length, i + BUNDLE_CHUNK));
    if (part !== '') {
      const piece = utf8(first ? part : `,${part}`);
      first = false;
      hash.update(piece);
      parts.push(piece);
    }
    await yieldToLoop();
  }
  const bg = activeGrants(grants, now());
  const tail = utf8(tailOf(bg.list));
  hash.update(tail);
  parts.push(tail);
  return { snapshot: snapshotOf(etagOf(hash.digest('hex')), parts), validUntil: bg.validUntil };
}

export function createBundleCache(): BundleCache {
  let cached: (Built & { state: State; changes: number; grantChanges: number }) | undefined;
  let building: Promise<unknown> | undefined;
  const fresh = (s: State, grants: GrantIndex, now: number): VerdictBundleSnapshot | undefined =>
    cached &&
    cached.state === s &&
    cached.changes === s.changes &&
    cached.grantChanges === grants.changes &&
    now < cached.validUntil
      ? cached.snapshot
      : undefined;
  return {
    async getInChunks(state, grants, now) {
      // one rebuild at a time: a caller arriving during one waits for it (and uses it if still fresh)
      while (building) await building;
      const s = state();
      const hit = fresh(s, grants, now());
      if (hit) return hit;
      const key = { state: s, changes: s.changes, grantChanges: grants.changes };
      const run = buildInChunks(s, grants, now);
      building = run.catch(() => undefined);
      try {
        const built = await run;
        cached = { ...built, ...key };
        return built.snapshot;
      } finally {
        building = undefined;
      }
    },
  };
}
