/**
 * The SQLite ResultRepo: the latest result set per (host, query) and the status logs. Written by
 * `ingestBatch` only (last-seen times are batched by the osquery service from every authenticated
 * request, see hosts.touch), through the group commit (group-commit.ts: one transaction for the batches
 * of a few milliseconds, acknowledged after the WAL flush) of the batch writer (result-writer.ts, which
 * merges each update with result-merge.ts). Reads are in result-reads.ts.
 */
import type Database from 'better-sqlite3';
import type { ResultRepo } from '../domain/ports.js';
import { createGroupCommit, walSyncer } from './group-commit.js';
import { createResultReads } from './result-reads.js';
import { createBatchWriter } from './result-writer.js';

export interface ResultRepoOptions {
  statusLogsPerHost: number;
  queueMax: number;
  /** fsync the WAL before acknowledging (power-loss durable); false: crash durable only. */
  fsync: boolean;
  /** The WAL flush (default: walSyncer of this database); replaceable to test failures. */
  syncWal?: () => Promise<void>;
}

export function createResultRepo(sqlite: Database.Database, opts: ResultRepoOptions): ResultRepo {
  const applyBatch = createBatchWriter(sqlite, opts.statusLogsPerHost);
  const ingestBatch = createGroupCommit(sqlite, applyBatch, {
    queueMax: opts.queueMax,
    fsync: opts.fsync,
    syncWal: opts.syncWal ?? walSyncer(sqlite),
  });
  return { ingestBatch, ...createResultReads(sqlite) };
}
