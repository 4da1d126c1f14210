/**
 * Certificate → device, in memory, for the gateway's hot path (a Map lookup per request, never a query):
 * - certificates Trustgate issued (not revoked) → their device serial;
 * - certificates hosts are bound to at enrollment → the host's serial;
 * - certificates osquery reports from a device's keychain or certificate store (the built-in
 *   `device_certificates` query) → the reporting device, only when the certificate was issued by the
 *   device CA (authority key id) and its CN is the reporting device's serial: a colleague's certificate
 *   imported into another keychain maps to nobody.
 * Both SHA-1 (nginx `$ssl_client_fingerprint`, osquery) and SHA-256 (Caddy 2.6) fingerprints are keys.
 * A fingerprint two devices claim, a revoked or an expired certificate maps to nobody. Kept current:
 * `refresh()` rebuilds from the store (at start, after issue/revoke), `refreshIfChanged()` (on a timer, for
 * other processes' changes) rebuilds only when the store's device-identity version or the device CA moved
 * since the last rebuild (at 100k hosts, a rebuild every 30 s with nothing changed put 100k rows into the
 * heap and brought a full collection each time), and `onResults` applies a device's new report as it is
 * ingested. Reports are ingested by this process only, so a refresh re-reads them only when the device
 * CA's key ids changed; otherwise it drops the reports of hosts no longer active and reads back those of
 * hosts active again. At 100k hosts re-reading them, with every host's full row, stalled the event loop
 * 1.6 s every 30 s; the active hosts alone took 30 ms at 10k in one read, so they are read HOST_PAGE at a
 * time with the event loop let go in between, and an enrollment noted meanwhile is applied to the new
 * index before it replaces the old. A page comes from a covering index of the certificate columns
 * (store/hosts.ts), not the hosts' rows.
 */
import type { LatestResult } from '../domain/types.js';
import type { ActiveHostCert } from '../domain/ports.js';
import type { DeviceCertRecord, Host } from '../domain/types.js';
import { DEVICE_CERTS_QUERY_KEY } from '../domain/device-certs-query.js';
import type { Logger } from '../shared/log.js';
import { yieldToLoop } from '../shared/turns.js';

/** Active hosts read per page by a refresh. */
export const HOST_PAGE = 1000;

export interface CertIndexDeps {
  issued(): Promise<DeviceCertRecord[]>;
  /** The active hosts and their bound certificates, by id: at most `limit` with an id above `afterId`. */
  hosts(afterId: number, limit: number): Promise<ActiveHostCert[]>;
  reported(): Promise<LatestResult[]>;
  /** One host's stored results (its certificates report among them). */
  reportedBy(hostId: number): Promise<LatestResult[]>;
  /** Key ids (lower-case hex) of the device CA's certificates; empty without a device CA. */
  caKeyIds(): Promise<string[]>;
  /** The certificate (SHA-256) is revoked: the revocation set, O(1). */
  revoked(sha256: string): boolean;
  /** The store's device-identity version (Store.deviceIdentityVersion): moves with every change read here. */
  version(): Promise<number>;
  log: Logger;
}

export type CertSource = 'issued' | 'bound' | 'reported';

interface Entry {
  serial: string;
  notAfter: number;
  source: CertSource;
  /** For revocation checks; null for a reported certificate (osquery reports SHA-1 only). */
  sha256: string | null;
}

export interface CertIndex {
  /** The device serial a fingerprint (SHA-1 or SHA-256, hex) maps to at `now`, or null. */
  serialOf(fingerprint: string, now: number): string | null;
  /** Rebuilds from the store. */
  refresh(): Promise<void>;
  /** Rebuilds when the store's device-identity version or the device CA moved since the last rebuild. */
  refreshIfChanged(): Promise<void>;
  /** Applies an enrollment: an active host's bound certificate maps to its serial at once. */
  noteHost(host: Pick<Host, 'id' | 'serial' | 'cert' | 'enrollState'>): void;
  /** Applies a device's newly ingested results (its reported certificates). */
  onResults(host: Pick<Host, 'id' | 'serial'>, latest: readonly LatestResult[]): void;
  size(): number;
}

const hex = (s: string | undefined): string => (s ?? '').replace(/[:\s]/g, '').toLowerCase();
const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));
const SHA1 = /^[0-9a-f]{40}$/;

/** The certificates a device reported that Trustgate accepts as that device's (see the file comment). */
export function acceptedReports(
  serial: string,
  rows: ReadonlyArray<Record<string, string>>,
  caKeyIds: ReadonlySet<string>,
): Array<{ sha1: string; notAfter: number }> {
  const out: Array<{ sha1: string; notAfter: number }> = [];
  for (const r of rows) {
    const sha1 = hex(r.sha1);
    if (!SHA1.test(sha1) || r.common_name !== serial || !caKeyIds.has(hex(r.authority_key_id))) continue;
    const until = Number(r.not_valid_after);
    out.push({ sha1, notAfter: Number.isFinite(until) && until > 0 ? until * 1000 : -Infinity });
  }
  return out;
}

type Known = Map<string, Entry | null>;

/** Adds a certificate; one that two devices claim maps to nobody (null). */
function put(m: Known, fp: string, e: Entry, log: Logger | undefined): void {
  if (!fp) return;
  const had = m.get(fp);
  if (had === undefined) m.set(fp, e);
  else if (had !== null && had.serial !== e.serial) {
    m.set(fp, null);
    log?.warn({ event: 'devices.cert_ambiguous', fingerprint: fp }, 'a certificate is bound to two devices');
  }
}

/** An active host's bound certificate. */
function putHost(m: Known, h: Pick<ActiveHostCert, 'serial' | 'cert'>, log: Logger | undefined): void {
  if (!h.cert) return;
  const e: Entry = { serial: h.serial, notAfter: h.cert.notAfter, source: 'bound', sha256: h.cert.sha256 };
  put(m, h.cert.sha256, e, log);
  put(m, h.cert.sha1, e, log);
}

/** Issued certificates by fingerprint (null: claimed by two devices), and the revoked ones' SHA-1s. */
function knownIssued(issued: readonly DeviceCertRecord[], log: Logger) {
  const next: Known = new Map();
  const revokedSha1 = new Set<string>();
  for (const c of issued) {
    if (c.revokedAt !== null && c.sha1) revokedSha1.add(hex(c.sha1));
    if (c.deviceSerial === null || c.revokedAt !== null || c.issuedAt === null) continue;
    const e: Entry = { serial: c.deviceSerial, notAfter: c.notAfter ?? Infinity, source: 'issued', sha256: c.sha256 };
    put(next, c.sha256, e, log);
    put(next, hex(c.sha1 ?? ''), e, log);
  }
  return { next, revokedSha1 };
}

/** Reads the active hosts a page at a time into `next`, yielding the event loop between pages; their serials. */
async function addActiveHosts(deps: Pick<CertIndexDeps, 'hosts' | 'log'>, next: Known): Promise<Map<number, string>> {
  const serialOfHost = new Map<number, string>();
  for (let afterId = 0; ;) {
    const page = await deps.hosts(afterId, HOST_PAGE);
    for (const h of page) {
      serialOfHost.set(h.id, h.serial);
      putHost(next, h, deps.log);
    }
    const last = page[page.length - 1];
    if (page.length < HOST_PAGE || !last) return serialOfHost;
    afterId = last.id;
    await yieldToLoop();
  }
}

/**
 * Reported certificates: host id → its accepted entries, and SHA-1 → the reporting hosts' entries, kept in
 * step one host at a time, judged against the device CA's key ids of the last refresh. `dropped`: hosts
 * whose reports a refresh dropped because they were no longer active (held or unenrolled by another
 * process); one active again gets its stored report back. (A host held from its enrollment has no stored
 * results: a pending host's results are not stored.)
 */
function createReported(deps: Pick<CertIndexDeps, 'reported' | 'reportedBy'>) {
  const byHost = new Map<number, Map<string, Entry>>();
  const bySha1 = new Map<string, Entry[]>();
  const dropped = new Set<number>();
  /** The device CA's key ids; undefined until the first refresh. */
  let keyIds: ReadonlySet<string> | undefined;

  function drop(hostId: number): void {
    const old = byHost.get(hostId);
    if (!old) return;
    byHost.delete(hostId);
    for (const [sha1, e] of old) {
      const rest = (bySha1.get(sha1) ?? []).filter((x) => x !== e);
      if (rest.length) bySha1.set(sha1, rest);
      else bySha1.delete(sha1);
    }
  }

  /** A host's report, replacing its previous one. */
  function set(hostId: number, serial: string, rows: ReadonlyArray<Record<string, string>>): void {
    drop(hostId);
    const entries = new Map<string, Entry>();
    for (const r of acceptedReports(serial, rows, keyIds ?? new Set())) {
      entries.set(r.sha1, { serial, notAfter: r.notAfter, source: 'reported', sha256: null });
    }
    if (!entries.size) return;
    byHost.set(hostId, entries);
    for (const [sha1, e] of entries) bySha1.set(sha1, [...(bySha1.get(sha1) ?? []), e]);
  }

  /**
   * Follows a refresh: the first one, or another device CA, judges every stored report again; otherwise
   * the reports are current (ingested here), and only hosts no longer active lose theirs, hosts active
   * again get theirs back.
   */
  async function refresh(serialOfHost: ReadonlyMap<number, string>, caKeyIds: ReadonlySet<string>): Promise<void> {
    if (keyIds === undefined || !sameSet(keyIds, caKeyIds)) {
      keyIds = caKeyIds;
      for (const id of [...byHost.keys()]) drop(id);
      dropped.clear();
      for (const r of await deps.reported()) {
        const serial = serialOfHost.get(r.hostId);
        if (serial !== undefined && r.error === null) set(r.hostId, serial, r.rows);
      }
      return;
    }
    for (const [hostId, entries] of [...byHost]) {
      if (serialOfHost.get(hostId) === entries.values().next().value?.serial) continue;
      drop(hostId);
      dropped.add(hostId);
    }
    for (const hostId of [...dropped]) {
      const serial = serialOfHost.get(hostId);
      if (serial === undefined) continue;
      dropped.delete(hostId);
      const mine = (await deps.reportedBy(hostId)).find((r) => r.queryKey === DEVICE_CERTS_QUERY_KEY);
      if (mine && mine.error === null) set(hostId, serial, mine.rows);
    }
  }

  return { bySha1, set, refresh };
}

export function createCertIndex(deps: CertIndexDeps): CertIndex {
  /** Issued and bound certificates by fingerprint; null = claimed by two devices. */
  let known: Known = new Map();
  const reported = createReported(deps);
  /** Enrollments noted while a refresh reads the hosts (applied to its index before it is swapped in). */
  let noted: Array<Pick<ActiveHostCert, 'serial' | 'cert'>> | null = null;
  let running: Promise<void> | null = null;

  /** What the last rebuild read: the version before it read anything, and the device CA's key ids. */
  let built: { version: number; keyIds: ReadonlySet<string> } | undefined;
  const keyIdSet = (ids: readonly string[]): ReadonlySet<string> => new Set(ids.map(hex));

  async function rebuild(): Promise<void> {
    noted = [];
    try {
      // the version first: a change committed while the rest is read moves it past what is recorded here
      const version = await deps.version();
      const [issued, ids] = await Promise.all([deps.issued(), deps.caKeyIds()]);
      const { next, revokedSha1 } = knownIssued(issued, deps.log);
      const serialOfHost = await addActiveHosts(deps, next);
      for (const h of noted) putHost(next, h, undefined);
      // a revoked certificate's SHA-1 maps to nobody, even when a keychain still reports it
      for (const sha1 of revokedSha1) if (!next.has(sha1)) next.set(sha1, null);
      known = next;
      const keyIds = keyIdSet(ids);
      await reported.refresh(serialOfHost, keyIds);
      built = { version, keyIds };
    } finally {
      noted = null;
    }
  }

  /**
   * One rebuild at a time: a refresh asked for while one runs waits for it, then reads again (the running
   * one may have read before the change it follows).
   */
  async function refresh(): Promise<void> {
    while (running) await running.catch(() => undefined);
    running = rebuild();
    try {
      await running;
    } finally {
      running = null;
    }
  }

  async function refreshIfChanged(): Promise<void> {
    if (running) return; // a rebuild under way reads the changes (or moves past them: the next check sees it)
    const [version, ids] = await Promise.all([deps.version(), deps.caKeyIds()]);
    if (built && built.version === version && sameSet(built.keyIds, keyIdSet(ids))) return;
    await refresh();
  }

  /** A known certificate's serial, or null: revoked (SHA-256 known), expired, or claimed twice. */
  const valid = (e: Entry | null | undefined, now: number): string | null =>
    e && now <= e.notAfter && !(e.sha256 !== null && deps.revoked(e.sha256)) ? e.serial : null;

  return {
    serialOf(fingerprint, now) {
      const e = known.get(fingerprint);
      if (e !== undefined) return valid(e, now);
      const byReport = reported.bySha1.get(fingerprint);
      if (!byReport) return null;
      // the same certificate reported by two devices (possible only with one serial: a serial conflict) is
      // taken only when both name that serial
      let serial: string | null = null;
      for (const r of byReport) {
        const s = valid(r, now);
        if (s === null || (serial !== null && s !== serial)) return null;
        serial = s;
      }
      return serial;
    },
    refresh,
    refreshIfChanged,
    noteHost(h) {
      if (h.enrollState !== 'active' || !h.cert) return;
      putHost(known, h, undefined);
      noted?.push({ serial: h.serial, cert: h.cert });
    },
    onResults(host, latest) {
      const mine = latest.find((r) => r.queryKey === DEVICE_CERTS_QUERY_KEY && r.hostId === host.id);
      if (!mine || mine.error !== null) return;
      reported.set(host.id, host.serial, mine.rows);
    },
    size: () => known.size + reported.bySha1.size,
  };
}
