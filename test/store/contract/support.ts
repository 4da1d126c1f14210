/**
 * What every store contract suite shares: the factory an implementation hands in, the mocha hooks that
 * open a fresh store per test and close it (removing whatever it made) after, and the builders of the
 * records the suites store. Only the Store port is used here: nothing of SQL or of a driver.
 */
import { expect } from 'chai';
import type { EnrollRecord, Store } from '../../../server/domain/ports.js';
import type {
  BreakGlassGrant,
  CheckState,
  DeviceCertRecord,
  IngestBatch,
  ResultUpdate,
  Row,
} from '../../../server/domain/types.js';
import { AppError, type ErrorCode } from '../../../server/shared/errors.js';

/** One store under test: empty when made. `reopen` closes it and opens the same data again (durability). */
export interface StoreHandle {
  store: Store;
  reopen?(): Promise<Store>;
  /** Closes the store and removes everything the factory made (temp files, a scratch database). */
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHandle>;

export interface StoreUnderTest {
  /** The store of the running test (the reopened one after `reopen`). */
  readonly store: Store;
  /** Reopens the store, or skips the running test when the implementation cannot. */
  reopen(test: Mocha.Context): Promise<Store>;
}

/** Registers beforeEach/afterEach hooks that give each test a fresh store and close it after. */
export function useStore(factory: StoreFactory): StoreUnderTest {
  let handle: StoreHandle | undefined;
  let current: Store | undefined;
  beforeEach(async () => {
    handle = await factory();
    current = handle.store;
  });
  afterEach(async () => {
    const h = handle;
    handle = undefined;
    current = undefined;
    if (h) await h.close();
  });
  return {
    get store(): Store {
      if (!current) throw new Error('no store: use it inside a test');
      return current;
    },
    async reopen(test) {
      if (!handle?.reopen) return test.skip();
      current = await handle.reopen();
      return current;
    },
  };
}

/** A fixed instant (ms) the suites build their times from. */
export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

/**
 * A device certificate Trustgate issued to `deviceSerial` (fingerprints: `sha` repeated), a second before
 * `at`, valid a day after it, not revoked; `over` changes any field.
 */
export const issuedCert = (
  sha: string,
  deviceSerial: string,
  at = T0,
  over: Partial<DeviceCertRecord> = {},
): DeviceCertRecord => ({
  sha256: sha.repeat(64).slice(0, 64),
  sha1: sha.repeat(40).slice(0, 40),
  certSerial: '01',
  deviceSerial,
  notBefore: at - 1000,
  notAfter: at + 86_400_000,
  issuedAt: at - 1000,
  revokedAt: null,
  revokedBy: null,
  revokeReason: null,
  ...over,
});

export const enrollRecord = (serial: string, at = T0, over: Partial<EnrollRecord> = {}): EnrollRecord => ({
  serial,
  hardwareUuid: `uuid-${serial}`,
  hostIdentifier: serial,
  hostname: `${serial}.local`,
  platform: 'darwin',
  osPlatform: 'darwin',
  osName: 'macOS',
  osVersion: '14.4',
  osqueryVersion: '5.12.1',
  hardwareVendor: 'Apple',
  hardwareModel: 'Mac',
  enrollSecretName: 'default',
  details: { system_info: { hardware_serial: serial } },
  nodeKeyHash: `hash-${serial}-${at}`,
  at,
  state: 'active',
  pendingReason: null,
  ...over,
});

/** Enrolls a host with the given serial; returns its id. */
export async function enrollHost(store: Store, serial: string, over: Partial<EnrollRecord> = {}): Promise<number> {
  return (await store.hosts.enroll(enrollRecord(serial, T0, over))).host.id;
}

export const snapshot = (queryKey: string, version: string, unixTime = T0 / 1000): ResultUpdate => ({
  queryKey,
  mode: 'snapshot',
  unixTime,
  epoch: 0,
  counter: 0,
  added: [{ version }],
  removed: [],
});

export const diff = (
  queryKey: string,
  counter: number,
  change: { added?: Row[]; removed?: Row[]; epoch?: number; unixTime?: number },
): ResultUpdate => ({
  queryKey,
  mode: 'diff',
  unixTime: change.unixTime ?? T0 / 1000,
  epoch: change.epoch ?? 0,
  counter,
  added: change.added ?? [],
  removed: change.removed ?? [],
});

export const batch = (hostId: number, receivedAt: number, ...results: ResultUpdate[]): IngestBatch => ({
  hostId,
  receivedAt,
  results,
  statuses: [],
});

export const checkState = (
  hostId: number,
  checkId: string,
  status: CheckState['status'],
  over: Partial<CheckState> = {},
): CheckState => ({
  hostId,
  checkId,
  status,
  observed: [{ version: '14.4' }],
  message: `${checkId} message`,
  observedAt: T0,
  firstFailedAt: status === 'fail' ? T0 - 1000 : null,
  lastPassedAt: status === 'pass' ? T0 : null,
  error: status === 'error' ? 'no such table' : null,
  resultSeq: 7,
  ...over,
});

export const grant = (over: Partial<BreakGlassGrant> = {}): BreakGlassGrant => ({
  id: 'g1',
  serial: 'C02XX',
  user: 'alice',
  resource: 'prod-db',
  tier: 'high',
  reason: 'Paging incident INC-1',
  durationMs: 3_600_000,
  status: 'active',
  createdAt: 1000,
  activatedAt: 1000,
  expiresAt: 3_601_000,
  requestedBy: 'alice',
  approvedBy: null,
  revokedBy: null,
  reviewedBy: null,
  reviewedAt: null,
  decisionComment: null,
  ...over,
});

/** Awaits `p` and asserts that it rejected with an AppError of `code`; returns that error. */
export async function expectAppError(p: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected an AppError '${code}'`).to.be.instanceOf(AppError);
  const app = err as AppError;
  expect(app.code).to.equal(code);
  return app;
}
