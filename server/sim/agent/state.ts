/**
 * One simulated osqueryd's state (Agent): node key, config and schedule, result and status buffers,
 * logger backoff, distributed results waiting to be written, timers' generation. It is also the
 * HostRef the query engine reads the host's own values from. The parts in this directory act on it.
 */
import type { Row } from '../../domain/types.js';
import type { CompiledConfig, ScheduledQuery } from '../config.js';
import type { HostRef, QueryOutcome } from '../engine.js';
import type { AckedSet } from '../fleet-api.js';
import type { HostIdentity } from '../identity.js';
import type { Profile } from '../profiles.js';
import type { Transport } from '../transport.js';

/** A result line waiting in the buffer: one row (event format), or a whole set (snapshot, batch). */
export interface LogItem {
  q: ScheduledQuery;
  unixTime: number;
  epoch: number;
  counter: number;
  action: 'added' | 'removed' | 'snapshot' | 'batch';
  row: Row | null;
  rows: readonly Row[] | null;
  removedRows: readonly Row[] | null;
  outcome: QueryOutcome;
}

/** A status line waiting in the buffer. */
export interface StatusItem {
  unixTime: number;
  severity: number;
  filename: string;
  line: number;
  message: string;
}

/** Distributed results not yet written (merged into the next write after a failure). */
export interface PendingWrite {
  queries: Record<string, Row[]>;
  statuses: Record<string, number>;
  messages: Record<string, string>;
  stats: Record<string, Record<string, number>>;
}

export class Agent implements HostRef {
  nodeKey: string | null = null;
  enrolling: Promise<string | null> | null = null;
  config: CompiledConfig | null = null;
  schedule: readonly ScheduledQuery[] = [];
  gen = 0;
  prev: Array<QueryOutcome | null> = [];
  counters: number[] = [];
  ran: Uint8Array = new Uint8Array(0);
  results: LogItem[] = [];
  statuses: StatusItem[] = [];
  resFail = 0;
  stFail = 0;
  resNextOk = 0;
  stNextOk = 0;
  accelerateUntil = 0;
  pendingWrite: PendingWrite | null = null;
  checkedIn = false;
  started = false;
  hostIdentifier = '';
  acked: Map<string, AckedSet> | null = null;
  /** This host's own connection (ownConnection), instead of the fleet's shared pool. */
  transport: Transport | null = null;
  /** Next query reportOneNow runs. */
  nextReport = 0;
  wakers: Array<(() => void) | null> = [null, null, null, null];
  wakeGen = 0;
  constructor(
    readonly index: number,
    public profile: Profile,
    readonly osqueryVersion: string,
    private readonly idOf: (i: number) => HostIdentity,
  ) {}
  private id: HostIdentity | undefined;
  identity(): HostIdentity {
    // derived from (seed, index) only: computed once per host
    return (this.id ??= this.idOf(this.index));
  }
  stateValue(token: string): string | undefined {
    switch (token) {
      case 'config_hash':
        return this.config?.hash ?? '';
      case 'config_valid':
        return this.config ? '1' : '0';
      case 'osquery_version':
        return this.osqueryVersion;
      default:
        return undefined;
    }
  }
  stateKey(): string {
    return this.config?.hash ?? '';
  }
}
