/**
 * SQLite only: the ingest path's group commit, acknowledgement only after the WAL flush, the bounded
 * queue, the arrival sequence's numbers, the index latestSince uses. What every store promises about
 * ingestBatch (order, replays, skipped hosts) is in test/store/contract/results.ts.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import type { IngestBatch, IngestOutcome, ResultUpdate } from '../../../server/domain/types.js';
import { AppError } from '../../../server/shared/errors.js';
import { createHostRepo } from '../../../server/store/hosts.js';
import { createGroupCommit, walSyncer } from '../../../server/store/group-commit.js';
import { createResultRepo, type ResultRepoOptions } from '../../../server/store/results.js';
import { useTempSqlite } from '../../support/sqlite.js';
import { enrollRecord, T0 } from '../contract/support.js';

describe('SQLite ingest (createResultRepo)', () => {
  const tmp = useTempSqlite('tg-results');

  const host = async (serial: string): Promise<number> =>
    (await createHostRepo(tmp.opened.db).enroll(enrollRecord(serial))).host.id;
  const snap = (queryKey: string, version: string, unixTime = T0 / 1000): ResultUpdate => ({
    queryKey,
    mode: 'snapshot',
    unixTime,
    epoch: 0,
    counter: 0,
    added: [{ version }],
    removed: [],
  });
  const batch = (hostId: number, ...results: ResultUpdate[]): IngestBatch => ({
    hostId,
    receivedAt: T0,
    results,
    statuses: [],
  });
  const repo = (over: Partial<ResultRepoOptions> = {}) =>
    createResultRepo(tmp.opened.sqlite, { statusLogsPerHost: 10, queueMax: 100, fsync: true, ...over });

  /**
   * A group commit on a fake clock: each applied batch "takes" 2 ms of a 5-ms slice, so 3 batches per
   * transaction; acknowledged after `syncWal` when one is given (fsync on).
   */
  const slicedGroupCommit = (
    apply: (b: IngestBatch) => IngestOutcome,
    syncWal?: () => Promise<void>,
  ): ((b: IngestBatch) => Promise<IngestOutcome>) => {
    let t = 0;
    const timed = (b: IngestBatch): IngestOutcome => {
      t += 2;
      return apply(b);
    };
    const wal = syncWal ?? (async () => undefined);
    return createGroupCommit(tmp.opened.sqlite, timed, {
      queueMax: 100,
      fsync: syncWal !== undefined,
      sliceMs: 5,
      now: () => t,
      syncWal: wal,
    });
  };

  it('commits concurrent batches together and acknowledges each only after the WAL flush', async () => {
    const a = await host('A');
    const b = await host('B');
    let flushes = 0;
    let release: () => void = () => undefined;
    const r = repo({
      syncWal: () => {
        flushes++;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    let acked = 0;
    const both = [r.ingestBatch(batch(a, snap('p/os', '14.4'))), r.ingestBatch(batch(b, snap('p/os', '13.1')))].map(
      (p) =>
        p.then((o) => {
          acked++;
          return o;
        }),
    );
    await new Promise((res) => setTimeout(res, 30));
    // committed (readable) but not acknowledged while the flush runs
    expect(flushes).to.equal(1);
    expect(acked).to.equal(0);
    expect((await r.latestForHost(b)).map((l) => l.rows)).to.deep.equal([[{ version: '13.1' }]]);
    release();
    const outcomes = await Promise.all(both);
    expect(acked).to.equal(2);
    expect(outcomes.map((o) => o.latest.map((l) => l.queryKey))).to.deep.equal([['p/os'], ['p/os']]);
  });

  it('cuts a group at its slice of work: each slice is its own commit, later requests run between slices', async () => {
    const order: string[] = [];
    const ingest = slicedGroupCommit(
      (b) => {
        // a request that arrives during the first slice: handled before the second, not after the group
        if (b.hostId === 1) setImmediate(() => order.push('other request'));
        order.push(`apply ${b.hostId}${tmp.opened.sqlite.inTransaction ? '' : ' outside a transaction'}`);
        return { latest: [], skipped: 0, rowsApplied: 0 };
      },
      async () => {
        order.push('commit');
      },
    );
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7].map((h) => ingest(batch(h))));
    await all;
    expect(order).to.deep.equal([
      ...['apply 1', 'apply 2', 'apply 3', 'commit'],
      'other request',
      ...['apply 4', 'apply 5', 'apply 6', 'commit'],
      ...['apply 7', 'commit'],
    ]);
  });

  it('retries a failed slice batch by batch within the same slice: one bad batch fails alone', async () => {
    const acked: string[] = [];
    const ingest = slicedGroupCommit((b) => {
      if (b.hostId === 2) throw new Error('bad batch');
      return { latest: [], skipped: 0, rowsApplied: b.hostId };
    });
    const settled = await Promise.all(
      [1, 2, 3, 4, 5].map((h) =>
        ingest(batch(h)).then(
          (o) => acked.push(`ok ${o.rowsApplied}`),
          (e: unknown) => acked.push(`rejected ${h}: ${(e as Error).message}`),
        ),
      ),
    );
    expect(settled).to.have.length(5);
    expect(acked.sort()).to.deep.equal(['ok 1', 'ok 3', 'ok 4', 'ok 5', 'rejected 2: bad batch']);
  });

  it('answers unavailable when the WAL cannot be flushed, so the agent keeps and resends its batch', async () => {
    const a = await host('A');
    const r = repo({ syncWal: () => Promise.reject(new Error('EIO')) });
    const err = await r.ingestBatch(batch(a, snap('p/os', '14.4'))).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal('unavailable');
    expect((err as AppError).message).to.match(/write-ahead log.*EIO.*retry/);
    // the resend is idempotent: same snapshot, same time
    const ok = repo({ fsync: true });
    const out = await ok.ingestBatch(batch(a, snap('p/os', '14.4')));
    expect(out.latest[0]?.rows).to.deep.equal([{ version: '14.4' }]);
  });

  it('refuses batches beyond the queue bound with unavailable and stores nothing of them', async () => {
    const a = await host('A');
    const r = repo({ queueMax: 2, fsync: false });
    const results = await Promise.allSettled([1, 2, 3].map((i) => r.ingestBatch(batch(a, snap(`p/q${i}`, String(i))))));
    expect(results.map((x) => x.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected']);
    expect(((results[2] as PromiseRejectedResult).reason as AppError).code).to.equal('unavailable');
    expect((await r.latestForHost(a)).map((l) => l.queryKey)).to.deep.equal(['p/q1', 'p/q2']);
  });

  it('numbers the arrival sequence 1, 2, … in the database, counting on after a reopen', async () => {
    const a = await host('A');
    const first = await repo({ fsync: false }).ingestBatch(batch(a, snap('p/os', '1'), snap('p/fw', '1')));
    expect(first.latest.map((l) => l.seq)).to.deep.equal([1, 2]);
    tmp.reopen();
    const after = await repo({ fsync: false }).ingestBatch(batch(a, snap('p/os', '2')));
    expect(after.latest[0]?.seq).to.equal(3);
    expect((await repo({ fsync: false }).latestForHost(a)).map((l) => [l.queryKey, l.seq])).to.deep.equal([
      ['p/fw', 2],
      ['p/os', 3],
    ]);
  });

  it('latestSince reads through the updated_at index, not the query_key one', () => {
    const plan = tmp.opened.sqlite
      .prepare('EXPLAIN QUERY PLAN SELECT host_id FROM latest_results WHERE updated_at >= ? AND +query_key IN (?)')
      .all(0, 'p/os') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).to.include('latest_results_updated');
  });

  it('walSyncer flushes the real WAL file and fails when it is gone', async () => {
    const a = await host('A');
    await repo({ fsync: false }).ingestBatch(batch(a, snap('p/os', '14.4')));
    const sync = walSyncer(tmp.opened.sqlite);
    expect(fs.existsSync(`${tmp.opened.sqlite.name}-wal`)).to.equal(true);
    await sync();
    fs.renameSync(`${tmp.opened.sqlite.name}-wal`, `${tmp.opened.sqlite.name}-moved`);
    try {
      const err = await sync().then(
        () => null,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err?.code).to.equal('ENOENT');
    } finally {
      fs.renameSync(`${tmp.opened.sqlite.name}-moved`, `${tmp.opened.sqlite.name}-wal`);
    }
  });
});
