/** The CheckStateRepo contract: upserts, the per-host and full reads, and the warm start's columns. */
import { expect } from 'chai';
import { CHECK_STATUSES } from '../../../server/domain/types.js';
import { useStore, enrollHost, checkState as st, T0, type StoreFactory } from './support.js';

export function checkStatesContract(factory: StoreFactory): void {
  describe('check states (CheckStateRepo)', () => {
    const t = useStore(factory);

    describe('putMany(), forHost() and all()', () => {
      it('round-trips every field of a state, nulls included', async () => {
        const a = await enrollHost(t.store, 'A');
        const states = [
          st(a, 'disk', 'pass', { observed: [{ encrypted: '1', path: '/' }], resultSeq: null }),
          st(a, 'fw', 'fail', { message: 'Firewall is off.', observed: [] }),
          st(a, 'os', 'error'),
          st(a, 'av', 'unknown', { observedAt: null, message: '' }),
        ];
        await t.store.checkStates.putMany(states);
        expect(await t.store.checkStates.forHost(a)).to.deep.equal(
          [...states].sort((x, y) => x.checkId.localeCompare(y.checkId)),
        );
      });

      it('replaces the state of the same (host, check)', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.checkStates.putMany([st(a, 'disk', 'pass')]);
        const now = st(a, 'disk', 'fail', { message: 'now failing', firstFailedAt: T0 + 5, lastPassedAt: T0 });
        await t.store.checkStates.putMany([now]);
        expect(await t.store.checkStates.forHost(a)).to.deep.equal([now]);
      });

      it('ignores the states of hosts that are not enrolled (unenrolled meanwhile)', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.checkStates.putMany([st(424_242, 'disk', 'pass'), st(a, 'disk', 'pass')]);
        expect((await t.store.checkStates.all()).map((s) => s.hostId)).to.deep.equal([a]);
      });

      it('does nothing for an empty list; forHost() of a host without states is empty', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.checkStates.putMany([]);
        expect(await t.store.checkStates.forHost(a)).to.deep.equal([]);
        expect(await t.store.checkStates.all()).to.deep.equal([]);
      });

      it('all() returns every state by host then check; with observed: false, without the observed rows', async () => {
        const a = await enrollHost(t.store, 'A');
        const b = await enrollHost(t.store, 'B');
        await t.store.checkStates.putMany([
          st(b, 'fw', 'pass'),
          st(a, 'os', 'fail'),
          st(b, 'disk', 'error'),
          st(a, 'disk', 'pass'),
        ]);
        const all = await t.store.checkStates.all();
        expect(all.map((s) => [s.hostId, s.checkId])).to.deep.equal([
          [a, 'disk'],
          [a, 'os'],
          [b, 'disk'],
          [b, 'fw'],
        ]);
        expect(await t.store.checkStates.all({ observed: true })).to.deep.equal(all);
        expect(await t.store.checkStates.all({ observed: false })).to.deep.equal(
          all.map((s) => ({ ...s, observed: [] })),
        );
      });
    });

    describe('columns()', () => {
      it('returns every state of the named checks, with text only where a verdict shows it', async () => {
        const repo = t.store.checkStates;
        const a = await enrollHost(t.store, 'A');
        const b = await enrollHost(t.store, 'B');
        await repo.putMany([
          st(a, 'disk', 'pass'),
          st(a, 'firewall', 'fail', { message: 'Firewall is off.' }),
          st(a, 'os', 'error'),
          st(b, 'disk', 'unknown', { observedAt: null }),
          st(b, 'firewall', 'pass', { firstFailedAt: T0 - 5000 }),
          st(b, 'retired', 'fail'),
        ]);
        const ids = ['os', 'firewall', 'disk'];
        const cols = await repo.columns(ids);
        expect(cols.length).to.equal(5);
        const got = Array.from({ length: cols.length }, (_, i) => ({
          hostId: cols.hostId[i],
          checkId: ids[cols.check[i] ?? -1],
          status: CHECK_STATUSES[cols.status[i] ?? -1],
          observedAt: cols.observedAt[i],
          firstFailedAt: cols.firstFailedAt[i],
          lastPassedAt: cols.lastPassedAt[i],
          resultSeq: cols.resultSeq[i],
          message: cols.message.get(i),
          error: cols.error.get(i),
        })).sort((x, y) => (x.hostId ?? 0) - (y.hostId ?? 0) || String(x.checkId).localeCompare(String(y.checkId)));
        const none = { message: undefined, error: undefined, resultSeq: 7 };
        expect(got).to.deep.equal([
          { ...none, hostId: a, checkId: 'disk', status: 'pass', observedAt: T0, firstFailedAt: NaN, lastPassedAt: T0 },
          {
            ...none,
            hostId: a,
            checkId: 'firewall',
            status: 'fail',
            observedAt: T0,
            firstFailedAt: T0 - 1000,
            lastPassedAt: NaN,
            message: 'Firewall is off.',
          },
          {
            ...none,
            hostId: a,
            checkId: 'os',
            status: 'error',
            observedAt: T0,
            firstFailedAt: NaN,
            lastPassedAt: NaN,
            error: 'no such table',
          },
          {
            ...none,
            hostId: b,
            checkId: 'disk',
            status: 'unknown',
            observedAt: NaN,
            firstFailedAt: NaN,
            lastPassedAt: NaN,
          },
          {
            ...none,
            hostId: b,
            checkId: 'firewall',
            status: 'pass',
            observedAt: T0,
            firstFailedAt: T0 - 5000,
            lastPassedAt: T0,
          },
        ]);
      });

      it('returns empty columns for no states or no check ids, and reads again after a change', async () => {
        const repo = t.store.checkStates;
        expect((await repo.columns(['disk'])).length).to.equal(0);
        const a = await enrollHost(t.store, 'A');
        await repo.putMany([st(a, 'disk', 'pass')]);
        expect((await repo.columns([])).length).to.equal(0);
        expect((await repo.columns(['disk'])).length).to.equal(1);
        await repo.putMany([st(a, 'disk', 'fail', { message: 'now failing' })]);
        const cols = await repo.columns(['disk']);
        expect([cols.length, CHECK_STATUSES[cols.status[0] ?? -1], cols.message.get(0)]).to.deep.equal([
          1,
          'fail',
          'now failing',
        ]);
      });

      it('gives NaN for a result seq not known', async () => {
        const a = await enrollHost(t.store, 'A');
        await t.store.checkStates.putMany([st(a, 'disk', 'pass', { resultSeq: null })]);
        expect((await t.store.checkStates.columns(['disk'])).resultSeq[0]).to.deep.equal(NaN);
      });
    });
  });
}
