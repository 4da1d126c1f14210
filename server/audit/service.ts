/**
 * The audit service: implements the audit recorder port (domain/ports.ts: break glass, admin mutations,
 * enrollments, decision changes, with typed event names) over the append-only, hash-chained log, buffers
 * background events, lists entries and verifies the chain.
 */
import type { AuditEvent, AuditFilter, AuditRecorder, AuditRepo, DecisionChange } from '../domain/ports.js';
import type { AuditEntry } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { chainHead, verifyChain, type ChainAnchor, type ChainResult } from './chain.js';
import { isKeyedHash } from '../domain/audit-hash.js';

export interface AuditService extends AuditRecorder {
  /** Appends one entry. Throws when the store fails: a mutation that cannot be audited should fail. */
  record(event: AuditEvent): Promise<AuditEntry>;
  /** Appends several entries atomically, chained in order. */
  recordMany(events: readonly AuditEvent[]): Promise<AuditEntry[]>;
  /** Like `record` but never throws: failures are logged. For background paths (decision changes). */
  tryRecord(event: AuditEvent): Promise<AuditEntry | undefined>;
  /**
   * Background events (enrollments, decision changes): buffered and appended together, in order, a few
   * times a second (one transaction for many events instead of one each). Never throws; `flush()` writes
   * what is buffered (shutdown, tests) and resolves with how many events it wrote.
   */
  later(event: AuditEvent): void;
  flush(): Promise<number>;
  /** Records a change of a device's decision for a tier (actor `system`), through `later`. Never throws. */
  decisionChanged(change: DecisionChange): void;
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Verifies the whole chain; names the first bad entry. With an anchor, also detects a truncated tail. */
  verify(anchor?: ChainAnchor): Promise<ChainResult>;
  /** The current head (last seq and hash), to record outside the database; null when the log is empty. */
  head(): Promise<ChainAnchor | null>;
  /**
   * When the log ends with an unkeyed (legacy) entry, appends `audit.keyed` (keyed): from then on a log
   * that ends unkeyed was rewritten. The server calls it at start; returns whether it appended.
   */
  keyTail(): Promise<boolean>;
  /** verify() and head() from one read of the log. */
  verifyWithHead(anchor?: ChainAnchor): Promise<{ result: ChainResult; head: ChainAnchor | null }>;
}

export interface AuditDeps {
  repo: Pick<AuditRepo, 'append' | 'list' | 'all'>;
  clock: Clock;
  log: Logger;
  /** How long background events wait to be appended together (default 100 ms). */
  laterWindowMs?: number;
  /** The audit key the store chains with: verification checks every keyed entry's HMAC with it. */
  key?: Buffer;
}

/** See AuditService.keyTail. */
async function keyTail(deps: AuditDeps, record: (e: AuditEvent) => Promise<AuditEntry>): Promise<boolean> {
  const all = await deps.repo.all();
  const last = all[all.length - 1];
  if (!deps.key || !last || isKeyedHash(last.hash)) return false;
  const legacy = all.filter((e) => !isKeyedHash(e.hash)).length;
  await record({ type: 'audit.keyed', actor: 'system', data: { legacy_entries: legacy, legacy_head: last.hash } });
  return true;
}

export function createAuditService(deps: AuditDeps): AuditService {
  const toRow = (e: AuditEvent) => ({
    at: e.at ?? deps.clock.now(),
    type: e.type,
    actor: e.actor,
    serial: e.serial ?? null,
    data: e.data ?? null,
  });
  const recordMany = async (events: readonly AuditEvent[]): Promise<AuditEntry[]> =>
    deps.repo.append(events.map(toRow));
  const record = async (event: AuditEvent): Promise<AuditEntry> => {
    const [entry] = await recordMany([event]);
    if (!entry) throw new Error('audit append returned no entry');
    return entry;
  };
  const tryRecord = async (event: AuditEvent): Promise<AuditEntry | undefined> => {
    try {
      return await record(event);
    } catch (e) {
      deps.log.error({ event: 'audit.write_failed', type: event.type, err: errorMessage(e) }, 'audit write failed');
      return undefined;
    }
  };
  let buffered: AuditEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async (): Promise<number> => {
    clearTimeout(timer);
    timer = undefined;
    if (!buffered.length) return 0;
    const events = buffered;
    buffered = [];
    try {
      await recordMany(events);
      return events.length;
    } catch (e) {
      deps.log.error(
        {
          event: 'audit.write_failed',
          count: events.length,
          types: [...new Set(events.map((x) => x.type))],
          err: errorMessage(e),
        },
        'audit write failed',
      );
      return 0;
    }
  };
  const later = (event: AuditEvent): void => {
    buffered.push({ ...event, at: event.at ?? deps.clock.now() });
    if (buffered.length >= 1000) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), deps.laterWindowMs ?? 100);
      timer.unref();
    }
  };
  return {
    record,
    recordMany,
    tryRecord,
    later,
    flush,
    decisionChanged: (c) =>
      later({
        type: 'decision.changed',
        actor: 'system',
        serial: c.serial,
        ...(c.at !== undefined ? { at: c.at } : {}),
        data: { tier: c.tier, from: c.from, to: c.to, reasons: c.reasons ?? [] },
      }),
    list: (filter = {}) => deps.repo.list(filter),
    verify: async (anchor) => verifyChain(await deps.repo.all(), anchor, deps.key),
    head: async () => chainHead(await deps.repo.all()),
    keyTail: () => keyTail(deps, record),
    verifyWithHead: async (anchor) => {
      const all = await deps.repo.all();
      return { result: verifyChain(all, anchor, deps.key), head: chainHead(all) };
    },
  };
}
