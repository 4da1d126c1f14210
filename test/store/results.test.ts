/**
 * The ingest port on a real SQLite file: group commit, acknowledgement only after the WAL flush, one bad
 * batch never failing the others, the bounded queue.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import type { HostDetails, IngestBatch, ResultUpdate } from '../../server/domain/types.js';
import { AppError } from '../../server/shared/errors.js';
import { createHostRepo } from '../../server/store/hosts.js';
import { createResultRepo, walSyncer, type ResultRepoOptions } from '../../server/store/results.js';
import { useTempSqlite } from '../support/sqlite.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('createResultRepo (ingestBatch)', () => {
  const tmp = useTempSqlite('tg-results');

  async function host(serial: string): Promise<number> {
    const details: HostDetails = { system_info: { hardware_serial: serial } };
    const out = await createHostRepo(tmp.opened.db).enroll({
      serial, hardwareUuid: `uuid-${serial}`, hostIdentifier: serial, hostname: `${serial}.local`, platform: 'darwin', osPlatform: 'darwin',
      osName: 'macOS', osVersion: '14.4', osqueryVersion: '5.12.1', hardwareVendor: 'Apple', hardwareModel: 'Mac', enrollSecretName: 'default',
      details, nodeKeyHash: `hash-${serial}`, at: T0,
    });
    return out.host.id;
  }
  const snap = (queryKey: string, version: string, unixTime = T0 / 1000): ResultUpdate => ({
    queryKey, mode: 'snapshot', unixTime, epoch: 0, counter: 0, added: [{ version }], removed: [],
  });
  const batch = (hostId: number, ...results: ResultUpdate[]): IngestBatch => ({ hostId, receivedAt: T0, results, statuses: [] });
  const repo = (over: Partial<ResultRepoOptions> = {}) => createResultRepo(tmp.opened.sqlite, { statusLogsPerHost: 10, queueMax: 100, fsync: true, ...over });

  it('commits concurrent batches together and acknowledges each only after the WAL flush', async () => {
    const a = await host('A');
    const b = await host('B');
    let flushes = 0;
    let release!: () => void;
    const r = repo({ syncWal: () => { flushes++; return new Promise<void>((resolve) => { release = resolve; }); } });
    let acked = 0;
    const both = [r.ingestBatch(batch(a, snap('p/os', '14.4'))), r.ingestBatch(batch(b, snap('p/os', '13.1')))].map((p) => p.then((o) => { acked++; return o; }));
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

  it('answers unavailable when the WAL cannot be flushed, so the agent keeps and resends its batch', async () => {
    const a = await host('A');
    const r = repo({ syncWal: () => Promise.reject(new Error('EIO')) });
    const err = await r.ingestBatch(batch(a, snap('p/os', '14.4'))).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal('unavailable');
    expect((err as AppError).message).to.match(/write-ahead log.*EIO.*retry/);
    // the resend is idempotent: same snapshot, same time
    const ok = repo({ fsync: true });
    const out = await ok.ingestBatch(batch(a, snap('p/os', '14.4')));
    expect(out.latest[0]?.rows).to.deep.equal([{ version: '14.4' }]);
  });

  it('skips the batch of a host unenrolled meanwhile without failing the batches committed with it', async () => {
    const a = await host('A');
    const r = repo();
    const [gone, ok] = await Promise.all([r.ingestBatch(batch(987_654, snap('p/os', '1'))), r.ingestBatch(batch(a, snap('p/os', '14.4')))]);
    expect(gone).to.include({ skipped: 1, rowsApplied: 0 });
    expect(ok.latest).to.have.length(1);
  });

  it('refuses batches beyond the queue bound with unavailable and stores nothing of them', async () => {
    const a = await host('A');
    const r = repo({ queueMax: 2, fsync: false });
    const results = await Promise.allSettled([1, 2, 3].map((i) => r.ingestBatch(batch(a, snap(`p/q${i}`, String(i))))));
    expect(results.map((x) => x.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected']);
    expect(((results[2] as PromiseRejectedResult).reason as AppError).code).to.equal('unavailable');
    expect((await r.latestForHost(a)).map((l) => l.queryKey)).to.deep.equal(['p/q1', 'p/q2']);
  });

  it('orders results by when they were received when an agent stamps them in the future (clock ahead)', async () => {
    const a = await host('A');
    const r = repo({ fsync: false });
    // the agent's clock runs an hour ahead: its failing result is stamped T0 + 1 h, received at T0
    await r.ingestBatch({ hostId: a, receivedAt: T0, results: [snap('p/os', 'failing', T0 / 1000 + 3600)], statuses: [] });
    // a recheck answered a minute later is stamped on arrival: it is newer and must replace it
    const later = await r.ingestBatch({ hostId: a, receivedAt: T0 + 60_000, results: [snap('p/os', 'fixed', T0 / 1000 + 60)], statuses: [] });
    expect(later.skipped).to.equal(0);
    expect((await r.latestForHost(a))[0]?.rows).to.deep.equal([{ version: 'fixed' }]);
    // a result stamped before what is stored (and received after it) is still out of order
    const stale = await r.ingestBatch({ hostId: a, receivedAt: T0 + 120_000, results: [snap('p/os', 'old', T0 / 1000 + 30)], statuses: [] });
    expect(stale.skipped).to.equal(1);
    expect((await r.latestForHost(a))[0]?.rows).to.deep.equal([{ version: 'fixed' }]);
  });

  it('orders by the observed second, then arrival: a same-second recheck beats a future-stamped result, both ways', async () => {
    const a = await host('A');
    const r = repo({ fsync: false });
    const S = T0 / 1000;
    // a failing result stamped 5 s in the future arrives at .300; the recheck answer (stamped S) at .700
    const failing = await r.ingestBatch({ hostId: a, receivedAt: T0 + 300, results: [snap('p/fw', 'off', S + 5)], statuses: [] });
    const fixed = await r.ingestBatch({ hostId: a, receivedAt: T0 + 700, results: [snap('p/fw', 'on', S)], statuses: [] });
    expect(fixed.skipped).to.equal(0);
    expect(fixed.latest[0]!.seq).to.be.greaterThan(failing.latest[0]!.seq);
    expect((await r.latestForHost(a)).find((l) => l.queryKey === 'p/fw')?.rows).to.deep.equal([{ version: 'on' }]);
    // the other way: a failing scheduled result of the same second arriving after the passing answer wins
    const again = await r.ingestBatch({ hostId: a, receivedAt: T0 + 900, results: [snap('p/fw', 'off', S)], statuses: [] });
    expect(again.skipped).to.equal(0);
    expect((await r.latestForHost(a)).find((l) => l.queryKey === 'p/fw')?.rows).to.deep.equal([{ version: 'off' }]);
    // and a result of the previous second arriving last is older
    const older = await r.ingestBatch({ hostId: a, receivedAt: T0 + 950, results: [snap('p/fw', 'on', S - 1)], statuses: [] });
    expect(older.skipped).to.equal(1);
  });

  it('keeps the arrival sequence in the database: it keeps counting after a reopen', async () => {
    const a = await host('A');
    const first = await repo({ fsync: false }).ingestBatch(batch(a, snap('p/os', '1'), snap('p/fw', '1')));
    expect(first.latest.map((l) => l.seq)).to.deep.equal([1, 2]);
    tmp.reopen();
    const after = await repo({ fsync: false }).ingestBatch(batch(a, snap('p/os', '2')));
    expect(after.latest[0]!.seq).to.equal(3);
    expect((await repo({ fsync: false }).latestForHost(a)).map((l) => [l.queryKey, l.seq])).to.deep.equal([['p/fw', 2], ['p/os', 3]]);
  });

  it('latestSince returns the sets of the named queries stored at or after a time, through the updated_at index', async () => {
    const a = await host('A');
    const r = repo({ fsync: false });
    await r.ingestBatch({ hostId: a, receivedAt: T0, results: [snap('p/os', '1'), snap('p/fw', '1')], statuses: [] });
    await r.ingestBatch({ hostId: a, receivedAt: T0 + 60_000, results: [snap('p/os', '2', T0 / 1000 + 60), snap('p/other', '2', T0 / 1000 + 60)], statuses: [] });
    const since = await r.latestSince(T0 + 1, ['p/os', 'p/fw']);
    expect(since.map((l) => [l.queryKey, l.rows])).to.deep.equal([['p/os', [{ version: '2' }]]]);
    expect((await r.latestSince(T0, ['p/os', 'p/fw'])).map((l) => l.queryKey).sort()).to.deep.equal(['p/fw', 'p/os']);
    const plan = tmp.opened.sqlite.prepare('EXPLAIN QUERY PLAN SELECT host_id FROM latest_results WHERE updated_at >= ? AND +query_key IN (?)').all(0, 'p/os') as Array<{ detail: string }>;
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
      const err = await sync().then(() => null, (e: unknown) => e as NodeJS.ErrnoException);
      expect(err?.code).to.equal('ENOENT');
    } finally {
      fs.renameSync(`${tmp.opened.sqlite.name}-moved`, `${tmp.opened.sqlite.name}-wal`);
    }
  });
});
