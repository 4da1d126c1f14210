/**
 * The ResultRepo contract: a batch applied whole, snapshots and differentials, replays skipped, the total
 * order of results per (device, query) (second observed capped by arrival, then the arrival seq the store
 * keeps), the read paths, status logs.
 */
import { expect } from 'chai';
import type { StatusLog } from '../../../server/domain/types.js';
import { useStore, enrollHost, batch, snapshot, diff, T0, type StoreFactory } from './support.js';

const S = T0 / 1000;

export function resultsContract(factory: StoreFactory): void {
  describe('results (ResultRepo)', () => {
    const t = useStore(factory);

    describe('ingestBatch()', () => {
      it('stores a snapshot as the latest set of (host, query) and reports it', async () => {
        const a = await enrollHost(t.store, 'A');
        const out = await t.store.results.ingestBatch(batch(a, T0 + 250, snapshot('p/os', '14.4')));
        expect(out.skipped).to.equal(0);
        expect(out.rowsApplied).to.equal(1);
        expect(out.latest).to.have.length(1);
        const [latest] = out.latest;
        expect(latest).to.deep.include({
          hostId: a,
          queryKey: 'p/os',
          rows: [{ version: '14.4' }],
          observedAt: T0,
          epoch: 0,
          counter: 0,
          error: null,
          updatedAt: T0 + 250,
        });
        expect(latest?.seq).to.be.a('number').and.greaterThan(0);
        expect(await t.store.results.latestForHost(a)).to.deep.equal(out.latest);
      });

      it('applies a differential to the stored set, removing rows as a multiset, any column order', async () => {
        const a = await enrollHost(t.store, 'A');
        const x = { name: 'x', path: '/x' };
        await t.store.results.ingestBatch(
          batch(a, T0, diff('p/apps', 0, { added: [x, x, { name: 'y', path: '/y' }] })),
        );
        const out = await t.store.results.ingestBatch(
          batch(a, T0, diff('p/apps', 1, { removed: [{ path: '/x', name: 'x' }], added: [{ name: 'z', path: '/z' }] })),
        );
        expect(out.rowsApplied).to.equal(2);
        expect((await t.store.results.latestForHost(a))[0]?.rows).to.deep.equal([
          x,
          { name: 'y', path: '/y' },
          { name: 'z', path: '/z' },
        ]);
      });

      it('takes counter 0 or a new epoch as the full set', async () => {
        const a = await enrollHost(t.store, 'A');
        const rows = async () => (await t.store.results.latestForHost(a))[0]?.rows;
        await t.store.results.ingestBatch(batch(a, T0, diff('p/apps', 0, { added: [{ n: '1' }, { n: '2' }] })));
        await t.store.results.ingestBatch(
          batch(a, T0 + 1000, diff('p/apps', 0, { added: [{ n: '3' }], unixTime: S + 1 })),
        );
        expect(await rows()).to.deep.equal([{ n: '3' }]);
        await t.store.results.ingestBatch(
          batch(a, T0 + 2000, diff('p/apps', 5, { added: [{ n: '4' }], epoch: 9, unixTime: S + 2 })),
        );
        expect(await rows()).to.deep.equal([{ n: '4' }]);
      });

      it('skips a replayed differential (same run time and epoch, counter not newer): replays are no-ops', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.results.ingestBatch(batch(a, T0, diff('p/apps', 0, { added: [{ n: '1' }] })));
        const change = diff('p/apps', 1, { added: [{ n: '2' }] });
        await t.store.results.ingestBatch(batch(a, T0, change));
        const replay = await t.store.results.ingestBatch(batch(a, T0 + 500, change));
        expect(replay).to.deep.equal({ latest: [], skipped: 1, rowsApplied: 0 });
        expect((await t.store.results.latestForHost(a))[0]?.rows).to.deep.equal([{ n: '1' }, { n: '2' }]);
      });

      it('keeps the previous rows and records the error of a query the agent failed to run', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.results.ingestBatch(batch(a, T0, snapshot('p/os', '14.4')));
        const failed = { ...snapshot('p/os', 'ignored', S + 60), added: [], error: 'no such table: os_version' };
        await t.store.results.ingestBatch(batch(a, T0 + 60_000, failed));
        const [latest] = await t.store.results.latestForHost(a);
        expect(latest).to.deep.include({
          rows: [{ version: '14.4' }],
          error: 'no such table: os_version',
          observedAt: T0 + 60_000,
        });
      });

      it('keeps only the last update of a query within one batch', async () => {
        const a = await enrollHost(t.store, 'A');
        const out = await t.store.results.ingestBatch(
          batch(a, T0, snapshot('p/os', '1'), snapshot('p/fw', 'on'), snapshot('p/os', '2')),
        );
        expect(out.latest.map((l) => [l.queryKey, l.rows])).to.have.deep.members([
          ['p/fw', [{ version: 'on' }]],
          ['p/os', [{ version: '2' }]],
        ]);
        expect((await t.store.results.latestForHost(a)).map((l) => [l.queryKey, l.rows])).to.deep.equal([
          ['p/fw', [{ version: 'on' }]],
          ['p/os', [{ version: '2' }]],
        ]);
      });

      it('skips the batch of a host unenrolled meanwhile without failing the batches committed with it', async () => {
        const a = await enrollHost(t.store, 'A');
        const [gone, ok] = await Promise.all([
          t.store.results.ingestBatch(batch(987_654, T0, snapshot('p/os', '1'))),
          t.store.results.ingestBatch(batch(a, T0, snapshot('p/os', '14.4'))),
        ]);
        expect(gone).to.include({ skipped: 1, rowsApplied: 0 });
        expect(ok.latest).to.have.length(1);
      });

      it('commits concurrent batches of many hosts, each set with its own increasing seq', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 12; i += 1) ids.push(await enrollHost(t.store, `H${i}`));
        const outs = await Promise.all(
          ids.map((id) => t.store.results.ingestBatch(batch(id, T0, snapshot('p/os', `${id}`)))),
        );
        const seqs = outs.map((o) => o.latest[0]?.seq);
        expect(new Set(seqs).size).to.equal(ids.length);
        const stored = await t.store.results.latestForQueries(['p/os']);
        expect(stored.map((l) => [l.hostId, l.rows[0]?.version])).to.have.deep.members(ids.map((id) => [id, `${id}`]));
      });
    });

    describe('order of results per (host, query)', () => {
      it('orders by arrival when an agent stamps results in the future (clock ahead)', async () => {
        const a = await enrollHost(t.store, 'A');
        const r = t.store.results;
        // the agent's clock runs an hour ahead: its failing result is stamped T0 + 1 h, received at T0
        await r.ingestBatch(batch(a, T0, snapshot('p/os', 'failing', S + 3600)));
        // a recheck answered a minute later is stamped on arrival: it is newer and must replace it
        const later = await r.ingestBatch(batch(a, T0 + 60_000, snapshot('p/os', 'fixed', S + 60)));
        expect(later.skipped).to.equal(0);
        expect((await r.latestForHost(a))[0]?.rows).to.deep.equal([{ version: 'fixed' }]);
        // a result stamped before what is stored (and received after it) is still out of order
        const stale = await r.ingestBatch(batch(a, T0 + 120_000, snapshot('p/os', 'old', S + 30)));
        expect(stale.skipped).to.equal(1);
        expect((await r.latestForHost(a))[0]?.rows).to.deep.equal([{ version: 'fixed' }]);
      });

      it('orders by the observed second, then arrival: a same-second recheck beats a future stamp', async () => {
        const a = await enrollHost(t.store, 'A');
        const r = t.store.results;
        const fw = async () => (await r.latestForHost(a)).find((l) => l.queryKey === 'p/fw')?.rows;
        // a failing result stamped 5 s in the future arrives at .300; the recheck answer (stamped S) at .700
        const failing = await r.ingestBatch(batch(a, T0 + 300, snapshot('p/fw', 'off', S + 5)));
        const fixed = await r.ingestBatch(batch(a, T0 + 700, snapshot('p/fw', 'on', S)));
        expect(fixed.skipped).to.equal(0);
        expect(fixed.latest[0]?.seq).to.be.greaterThan(failing.latest[0]?.seq ?? Infinity);
        expect(await fw()).to.deep.equal([{ version: 'on' }]);
        // the other way: a failing scheduled result of the same second arriving after the passing answer wins
        const again = await r.ingestBatch(batch(a, T0 + 900, snapshot('p/fw', 'off', S)));
        expect(again.skipped).to.equal(0);
        expect(await fw()).to.deep.equal([{ version: 'off' }]);
        // and a result of the previous second arriving last is older
        const older = await r.ingestBatch(batch(a, T0 + 950, snapshot('p/fw', 'on', S - 1)));
        expect(older.skipped).to.equal(1);
      });

      it('keeps the arrival sequence: it keeps counting after a reopen', async function () {
        const a = await enrollHost(t.store, 'A');
        const first = await t.store.results.ingestBatch(batch(a, T0, snapshot('p/os', '1'), snapshot('p/fw', '1')));
        const [s1, s2] = first.latest.map((l) => l.seq);
        expect(s2).to.be.greaterThan(s1 ?? Infinity);
        const store = await t.reopen(this);
        const after = await store.results.ingestBatch(batch(a, T0, snapshot('p/os', '2')));
        const s3 = after.latest[0]?.seq;
        expect(s3).to.be.greaterThan(s2 ?? Infinity);
        expect((await store.results.latestForHost(a)).map((l) => [l.queryKey, l.seq])).to.deep.equal([
          ['p/fw', s2],
          ['p/os', s3],
        ]);
      });
    });

    describe('reads', () => {
      it('latestForHost() returns the sets of a host in query key order; none for an unknown host', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.results.ingestBatch(
          batch(a, T0, snapshot('p/zz', '1'), snapshot('a/b', '2'), snapshot('p/aa', '3')),
        );
        expect((await t.store.results.latestForHost(a)).map((l) => l.queryKey)).to.deep.equal(['a/b', 'p/aa', 'p/zz']);
        expect(await t.store.results.latestForHost(424_242)).to.deep.equal([]);
      });

      it('latestForQueries() returns the sets of the named queries of every host, and none for no names', async () => {
        const a = await enrollHost(t.store, 'A');
        const b = await enrollHost(t.store, 'B');
        await t.store.results.ingestBatch(
          batch(a, T0, snapshot('p/os', 'a'), snapshot('p/fw', 'a'), snapshot('p/x', 'a')),
        );
        await t.store.results.ingestBatch(batch(b, T0, snapshot('p/os', 'b')));
        const got = await t.store.results.latestForQueries(['p/os', 'p/fw', 'p/none']);
        expect(got.map((l) => [l.hostId, l.queryKey, l.rows])).to.have.deep.members([
          [a, 'p/os', [{ version: 'a' }]],
          [a, 'p/fw', [{ version: 'a' }]],
          [b, 'p/os', [{ version: 'b' }]],
        ]);
        expect(await t.store.results.latestForQueries([])).to.deep.equal([]);
      });

      it('latestSince() returns the sets of the named queries stored at or after a time', async () => {
        const a = await enrollHost(t.store, 'A');
        const r = t.store.results;
        await r.ingestBatch(batch(a, T0, snapshot('p/os', '1'), snapshot('p/fw', '1')));
        await r.ingestBatch(batch(a, T0 + 60_000, snapshot('p/os', '2', S + 60), snapshot('p/other', '2', S + 60)));
        const since = await r.latestSince(T0 + 1, ['p/os', 'p/fw']);
        expect(since.map((l) => [l.queryKey, l.rows])).to.deep.equal([['p/os', [{ version: '2' }]]]);
        expect((await r.latestSince(T0, ['p/os', 'p/fw'])).map((l) => l.queryKey).sort()).to.deep.equal([
          'p/fw',
          'p/os',
        ]);
        expect(await r.latestSince(T0, [])).to.deep.equal([]);
      });
    });

    describe('statusLogs()', () => {
      const log = (message: string, over: Partial<StatusLog> = {}): StatusLog => ({
        unixTime: S,
        severity: 0,
        filename: 'config.cpp',
        line: 42,
        message,
        version: '5.12.1',
        ...over,
      });

      it('returns a host’s status logs newest first, at most `limit`, with the time they were received', async () => {
        const a = await enrollHost(t.store, 'A');
        const b = await enrollHost(t.store, 'B');
        await t.store.results.ingestBatch({ ...batch(a, T0), statuses: [log('one'), log('two', { severity: 2 })] });
        await t.store.results.ingestBatch({ ...batch(a, T0 + 1000), statuses: [log('three', { line: 7 })] });
        await t.store.results.ingestBatch({ ...batch(b, T0), statuses: [log('other host')] });
        expect(await t.store.results.statusLogs(a, 2)).to.deep.equal([
          { ...log('three', { line: 7 }), receivedAt: T0 + 1000 },
          { ...log('two', { severity: 2 }), receivedAt: T0 },
        ]);
        expect((await t.store.results.statusLogs(a, 10)).map((l) => l.message)).to.deep.equal(['three', 'two', 'one']);
        expect(await t.store.results.statusLogs(424_242, 10)).to.deep.equal([]);
      });
    });
  });
}
