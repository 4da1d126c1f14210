/** The DistributedRepo contract: the queue of distributed queries per host, resends, answers, campaigns. */
import { expect } from 'chai';
import type { DistributedQuery } from '../../../server/domain/types.js';
import { useStore, enrollHost, T0, type StoreFactory } from './support.js';

type Queued = Omit<DistributedQuery, 'sentAt' | 'completedAt'>;

const query = (id: string, hostId: number, over: Partial<Queued> = {}): Queued => ({
  id,
  hostId,
  sql: `SELECT '${id}'`,
  kind: 'live',
  ref: 'campaign-1',
  createdAt: T0,
  ...over,
});

const answer = (rows: unknown[] = [{ n: '1' }]) => ({ rows, status: 0, message: '' });

export function distributedContract(factory: StoreFactory): void {
  describe('distributed queries (DistributedRepo)', () => {
    const t = useStore(factory);

    it('takePending() returns the queued queries of a host oldest first and marks them sent', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      await t.store.distributed.enqueue([
        query('q2', a, { createdAt: T0 + 2 }),
        query('q1', a, { createdAt: T0 + 1, kind: 'recheck', ref: 'disk' }),
        query('qb', b),
      ]);
      const taken = await t.store.distributed.takePending(a, T0 + 10, 60_000);
      expect(taken).to.deep.equal([
        { ...query('q1', a, { createdAt: T0 + 1, kind: 'recheck', ref: 'disk' }), sentAt: T0 + 10, completedAt: null },
        { ...query('q2', a, { createdAt: T0 + 2 }), sentAt: T0 + 10, completedAt: null },
      ]);
    });

    it('takePending() does not hand out a sent query again until resendAfterMs has passed unanswered', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.distributed.enqueue([query('q1', a)]);
      expect(await t.store.distributed.takePending(a, T0, 60_000)).to.have.length(1);
      expect(await t.store.distributed.takePending(a, T0 + 30_000, 60_000)).to.deep.equal([]);
      expect(await t.store.distributed.takePending(a, T0 + 60_000, 60_000)).to.deep.equal([]);
      const resent = await t.store.distributed.takePending(a, T0 + 60_001, 60_000);
      expect(resent.map((q) => [q.id, q.sentAt])).to.deep.equal([['q1', T0 + 60_001]]);
    });

    it('takePending() returns nothing for a host without queries', async () => {
      const a = await enrollHost(t.store, 'A');
      expect(await t.store.distributed.takePending(a, T0, 1000)).to.deep.equal([]);
    });

    it('enqueue() ignores a query id already queued (idempotent) and an empty list', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.distributed.enqueue([query('q1', a)]);
      await t.store.distributed.enqueue([query('q1', a, { sql: 'SELECT 2' })]);
      await t.store.distributed.enqueue([]);
      const taken = await t.store.distributed.takePending(a, T0, 1000);
      expect(taken.map((q) => [q.id, q.sql])).to.deep.equal([['q1', "SELECT 'q1'"]]);
    });

    it('enqueue() skips the queries of a host unenrolled meanwhile and queues the others', async () => {
      const a = await enrollHost(t.store, 'A');
      const gone = await enrollHost(t.store, 'GONE');
      await t.store.hosts.unenroll(gone);
      await t.store.distributed.enqueue([query('q1', a), query('qg', gone), query('qx', 424_242), query('q2', a)]);
      expect(await t.store.distributed.pendingHostIds()).to.deep.equal([a]);
      expect(await t.store.distributed.hasPending(gone)).to.equal(false);
      expect((await t.store.distributed.campaignResults('campaign-1')).map((r) => r.id)).to.deep.equal(['q1', 'q2']);
    });

    it('hasPending() and pendingHostIds() follow the queries not yet answered, sent or not', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      const c = await enrollHost(t.store, 'C');
      expect(await t.store.distributed.hasPending(a)).to.equal(false);
      await t.store.distributed.enqueue([query('qa', a), query('qb1', b), query('qb2', b)]);
      await t.store.distributed.takePending(a, T0, 60_000);
      expect(await t.store.distributed.hasPending(a)).to.equal(true);
      expect(await t.store.distributed.hasPending(c)).to.equal(false);
      expect((await t.store.distributed.pendingHostIds()).sort((x, y) => x - y)).to.deep.equal([a, b]);
      await t.store.distributed.complete(a, [{ id: 'qa', answer: answer() }], T0 + 5);
      expect(await t.store.distributed.hasPending(a)).to.equal(false);
      expect(await t.store.distributed.pendingHostIds()).to.deep.equal([b]);
    });

    it('pendingHostIds(since) names only the hosts of open queries queued at or after `since`', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      const c = await enrollHost(t.store, 'C');
      await t.store.distributed.enqueue([
        query('qa', a, { createdAt: T0 - 1 }),
        query('qb', b, { createdAt: T0 }),
        query('qc', c, { createdAt: T0 + 10 }),
        query('qc-old', c, { createdAt: T0 - 5 }),
      ]);
      const sorted = (ids: number[]) => ids.sort((x, y) => x - y);
      expect(sorted(await t.store.distributed.pendingHostIds(T0))).to.deep.equal([b, c]);
      await t.store.distributed.complete(c, [{ id: 'qc', answer: answer() }], T0 + 20);
      expect(await t.store.distributed.pendingHostIds(T0), 'answered: no longer open').to.deep.equal([b]);
      expect(sorted(await t.store.distributed.pendingHostIds()), 'without since: every open one').to.deep.equal([
        a,
        b,
        c,
      ]);
    });

    it('complete() records answers and returns the completed queries in order; never handed out again', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.distributed.enqueue([query('q1', a), query('q2', a)]);
      await t.store.distributed.takePending(a, T0 + 1, 60_000);
      const done = await t.store.distributed.complete(
        a,
        [
          { id: 'q2', answer: answer([{ n: '2' }]) },
          { id: 'nope', answer: answer() },
          { id: 'q1', answer: answer() },
        ],
        T0 + 7,
      );
      expect(done).to.have.length(3);
      expect(done[0]).to.deep.include({ ...query('q2', a), completedAt: T0 + 7 });
      expect(done[1]).to.equal(undefined);
      expect(done[2]).to.deep.include({ ...query('q1', a), completedAt: T0 + 7 });
      expect(await t.store.distributed.takePending(a, T0 + 999_999, 1)).to.deep.equal([]);
      expect((await t.store.distributed.campaignResults('campaign-1')).map((r) => r.rows)).to.deep.equal([
        [{ n: '1' }],
        [{ n: '2' }],
      ]);
    });

    it('complete() keeps a live query’s rows only: a recheck’s or enrollment check’s are results', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.distributed.enqueue([
        query('live', a),
        query('re', a, { kind: 'recheck', ref: 'disk' }),
        query('en', a, { kind: 'enroll', ref: 'disk' }),
      ]);
      await t.store.distributed.takePending(a, T0 + 1, 60_000);
      const ids = ['live', 're', 'en'];
      const answers = ids.map((id) => ({ id, answer: answer([{ n: id }]) }));
      const done = await t.store.distributed.complete(a, answers, T0 + 5);
      expect(done.map((q) => [q?.id, q?.kind, q?.completedAt])).to.deep.equal([
        ['live', 'live', T0 + 5],
        ['re', 'recheck', T0 + 5],
        ['en', 'enroll', T0 + 5],
      ]);
      const live = await t.store.distributed.campaignResults('campaign-1');
      expect(live.map((r) => r.rows)).to.deep.equal([[{ n: 'live' }]]);
      const checks = (await t.store.distributed.campaignResults('disk')).map((r) => [r.id, r.status, r.rows]);
      expect(checks.sort()).to.deep.equal([
        ['en', 0, null],
        ['re', 0, null],
      ]);
    });

    it('takePending() orders queries queued at the same time by id', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.distributed.enqueue(['q3', 'q1', 'q2'].map((id) => query(id, a)));
      expect((await t.store.distributed.takePending(a, T0, 1000)).map((q) => q.id)).to.deep.equal(['q1', 'q2', 'q3']);
    });

    it('complete() returns undefined for an unknown id and for the id of another host’s query', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      await t.store.distributed.enqueue([query('qa', a)]);
      expect(await t.store.distributed.complete(a, [{ id: 'nope', answer: answer() }], T0)).to.deep.equal([undefined]);
      expect(await t.store.distributed.complete(b, [{ id: 'qa', answer: answer() }], T0)).to.deep.equal([undefined]);
      expect(await t.store.distributed.hasPending(a)).to.equal(true);
    });

    it('campaignResults() lists a campaign’s queries by host, answered or not, with rows and status', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      const c = await enrollHost(t.store, 'C');
      await t.store.distributed.enqueue([
        query('c1_b', b),
        query('c1_a', a),
        query('c1_c', c),
        query('other', a, { ref: 'campaign-2' }),
      ]);
      await t.store.distributed.complete(
        a,
        [{ id: 'c1_a', answer: answer([{ user: 'root' }, { user: 'alice' }]) }],
        T0 + 10,
      );
      await t.store.distributed.complete(
        c,
        [{ id: 'c1_c', answer: { rows: [], status: 1, message: 'no such table: users' } }],
        T0 + 11,
      );
      expect(await t.store.distributed.campaignResults('campaign-1')).to.deep.equal([
        {
          hostId: a,
          id: 'c1_a',
          status: 0,
          message: '',
          rows: [{ user: 'root' }, { user: 'alice' }],
          completedAt: T0 + 10,
        },
        { hostId: b, id: 'c1_b', status: null, message: null, rows: null, completedAt: null },
        { hostId: c, id: 'c1_c', status: 1, message: 'no such table: users', rows: [], completedAt: T0 + 11 },
      ]);
      expect(await t.store.distributed.campaignResults('nope')).to.deep.equal([]);
    });

    it('sentSince() lists a host’s queries of a kind handed out since a time, with rows once answered', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      await t.store.distributed.enqueue([
        query('old', a),
        query('new', a),
        query('recheck', a, { kind: 'recheck', ref: 'disk' }),
        query('other-host', b),
      ]);
      await t.store.distributed.takePending(a, T0 + 10, 60_000); // old, new, recheck sent at +10
      await t.store.distributed.takePending(b, T0 + 10, 60_000);
      await t.store.distributed.enqueue([query('unsent', a, { createdAt: T0 + 50 })]);
      await t.store.distributed.complete(a, [{ id: 'new', answer: answer([{ carve_guid: 'g1' }]) }], T0 + 20);
      await t.store.distributed.complete(
        a,
        [{ id: 'old', answer: { rows: [], status: 1, message: 'no such table' } }],
        T0 + 21,
      );
      const sent = await t.store.distributed.sentSince(a, 'live', T0 + 10);
      expect(sent).to.deep.equal([
        { ...query('new', a), sentAt: T0 + 10, completedAt: T0 + 20, rows: [{ carve_guid: 'g1' }] },
        { ...query('old', a), sentAt: T0 + 10, completedAt: T0 + 21, rows: [] },
      ]);
      expect(await t.store.distributed.sentSince(a, 'live', T0 + 11), 'handed out before the window').to.deep.equal([]);
    });

    it('pruneAnswered() deletes up to `limit` queries answered before a time, oldest first, no open one', async () => {
      const a = await enrollHost(t.store, 'A');
      const d = t.store.distributed;
      await d.enqueue(['q1', 'q2', 'q3', 'q4', 'open'].map((id) => query(id, a, { createdAt: T0 - 90 * 86_400_000 })));
      for (const [id, at] of [
        ['q3', T0 + 3],
        ['q1', T0 + 1],
        ['q4', T0 + 10],
        ['q2', T0 + 2],
      ] as const)
        await d.complete(a, [{ id, answer: answer() }], at);
      const left = async () => (await d.campaignResults('campaign-1')).map((r) => r.id).sort();
      expect(await d.pruneAnswered(T0 + 5, 2)).to.equal(2);
      expect(await left(), 'the two answered first').to.deep.equal(['open', 'q3', 'q4']);
      expect(await d.pruneAnswered(T0 + 5, 2)).to.equal(1);
      expect(await d.pruneAnswered(T0 + 5, 2)).to.equal(0);
      expect(await left(), 'answered at the cutoff or later: kept').to.deep.equal(['open', 'q4']);
      expect(await d.pruneAnswered(T0 + 365 * 86_400_000, 100)).to.equal(1);
      expect(await left(), 'queued 90 days before, never answered').to.deep.equal(['open']);
      expect(await d.hasPending(a)).to.equal(true);
    });
  });
}
