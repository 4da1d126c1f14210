import type { DeviceIdentityFigures } from './device-identity.js';
import type { FirstVerdictFigures } from './first-verdict.js';

/**
 * What one bench run measures (BenchFigures), how long each phase runs (FULL and QUICK), and the fixed
 * settings of the fixed-rate verdict run and of the outage replay.
 */

/** Ingest queue bound used for the outage replay (the default is 2000 waiting batches). */
export const OUTAGE_QUEUE_MAX = 64;

export interface Durations {
  /** Seconds of each closed-loop load phase (check-ins, log batches). */
  phase: number;
  /** Seconds of each HTTP load (autocannon) run. */
  http: number;
  /** Seconds of each TLS handshake run. */
  tls: number;
  /** Hosts that fix themselves and ask for a recheck. */
  fixes: number;
  /** Max seconds to wait for full enrollment. */
  enrollTimeout: number;
  /** Hosts (at most) that replay a backlog in the outage scenario, and runs each buffers. */
  outageHosts: number;
  outageRuns: number;
  /** Seconds over which the fixes are spread (a distributed_interval, so every polling phase is hit). */
  fixSpread: number;
  /**
   * Seconds a person spends between opening the remediation page and finishing the fix (uniform in
   * [min, max]): reading the failed check, opening the settings, changing them.
   */
  fixMinutesMin: number;
  fixMinutesMax: number;
}

export const FULL: Durations = {
  phase: 10,
  http: 10,
  tls: 3,
  fixes: 20,
  enrollTimeout: 2400,
  outageHosts: 20_000,
  outageRuns: 5,
  fixSpread: 60,
  fixMinutesMin: 1,
  fixMinutesMax: 2,
};
export const QUICK: Durations = {
  phase: 1,
  http: 1,
  tls: 0.5,
  fixes: 2,
  enrollTimeout: 60,
  outageHosts: 200,
  outageRuns: 3,
  fixSpread: 1,
  fixMinutesMin: 0,
  fixMinutesMax: 0,
};

/** Request rate of the fixed-rate verdict run (latency at a steady load, not at saturation). */
export const VERDICT_FIXED_RATE = 2000;

/** The figures of one fleet size; client certificates and the inventory import: DeviceIdentityFigures. */
export interface BenchFigures extends FirstVerdictFigures, DeviceIdentityFigures {
  hosts: number;
  enrollPerSec: number;
  enrollSeconds: number;
  enrolled: number;
  /** Server CPU per host start-up (enroll + first config). */
  cpuMsPerStart: number;
  rssMiB: number;
  /** Peak resident memory (VmHWM) from start to just before the cold-start restart. */
  peakRssMiB: number;
  readsPerSec: number;
  readP50: number;
  readP99: number;
  cpuMsPer1kReads: number;
  /** The fleet's first posture report: every host sends its whole schedule once. */
  firstReportSeconds: number;
  firstReportBatchesPerSec: number;
  firstReportRowsPerSec: number;
  firstReportP50: number;
  firstReportP99: number;
  cpuMsPer1kFirstReports: number;
  /** Steady state: one query's snapshot per batch, results mostly unchanged. */
  batchesPerSec: number;
  rowsPerSec: number;
  linesPerBatch: number;
  logP50: number;
  logP99: number;
  cpuMsPer1kBatches: number;
  queriesPerHost: number;
  hostsPerCore: number;
  impliedCoresFor100k: number;
  cores: number;
  /** Server cores used while the whole fleet runs at its own pace (the fix → access phase). */
  paceCores: number;
  paceSeconds: number;
  paceReadsPerSec: number;
  paceLogsPerSec: number;
  resultSetsChecked: number;
  resultsLost: number;
  tlsFullPerSec: number;
  tlsResumedPerSec: number;
  tlsResumedShare: number;
  verdictRps: number;
  verdictP50: number;
  verdictP99: number;
  verdictFixedRate: number;
  verdictFixedP50: number;
  verdictFixedP99: number;
  bareFixedP50: number;
  bareFixedP99: number;
  authzRps: number;
  authzP50: number;
  authzP99: number;
  bareRps: number;
  bareP50: number;
  bareP99: number;
  evaluationsPerSec: number | null;
  evaluationsNote: string;
  coldStartMs: number;
  /** A person opens the remediation page, fixes the device, presses Recheck. */
  fixAccessP50: number;
  fixAccessP95: number;
  fixAccessMeasured: number;
  /** An admin asks for a recheck (POST /api/v1/hosts/:serial/recheck) without the page: waits for the next poll. */
  adminFixAccessP50: number;
  adminFixAccessP95: number;
  adminFixAccessMeasured: number;
  outageBatches: number;
  outageErrors: number;
  outageLost: number;
  outageDrainSeconds: number;
}
