/** The AuditRepo contract: append-only, hash-chained from the genesis hash, filtered reads in seq order. */
import { expect } from 'chai';
import { GENESIS_HASH, verifyChain } from '../../../server/audit/chain.js';
import { useStore, type StoreFactory } from './support.js';

export function auditContract(factory: StoreFactory): void {
  describe('audit log (AuditRepo)', () => {
    const t = useStore(factory);

    it('append() chains entries from the genesis hash, across separate appends', async () => {
      const repo = t.store.audit;
      const first = await repo.append([
        { at: 1000, type: 'break_glass.requested', actor: 'alice', serial: 'C02', data: { b: 2, a: [1, 'x'] } },
        { at: 1001, type: 'host.enrolled', actor: 'system', serial: null, data: null },
      ]);
      const second = await repo.append([
        { at: 1002, type: 'token.created', actor: 'admin', serial: null, data: { role: 'viewer' } },
      ]);
      expect(first.map((e) => e.seq)).to.deep.equal([1, 2]);
      expect(first[0]?.prevHash).to.equal(GENESIS_HASH);
      expect(first[1]?.prevHash).to.equal(first[0]?.hash);
      expect(second[0]?.seq).to.equal(3);
      expect(second[0]?.prevHash).to.equal(first[1]?.hash);
      const all = await repo.all();
      expect(all).to.deep.equal([...first, ...second]);
      expect(verifyChain(all)).to.deep.equal({ ok: true, count: 3 });
    });

    it('append() of concurrent callers never forks the chain', async () => {
      const appends = Array.from({ length: 10 }, (_, i) =>
        t.store.audit.append([
          { at: i, type: 'x', actor: `a${i}`, serial: null, data: { i } },
          { at: i, type: 'y', actor: `a${i}`, serial: null, data: { i } },
        ]),
      );
      await Promise.all(appends);
      const all = await t.store.audit.all();
      expect(all.map((e) => e.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(verifyChain(all)).to.deep.equal({ ok: true, count: 20 });
    });

    it('stores data that verifyChain accepts after a reopen, unchanged', async function () {
      await t.store.audit.append([
        { at: 5, type: 't', actor: 'a', serial: 'S', data: { nested: { z: 1, y: [true, null, 1.5] }, text: 'é"\\' } },
      ]);
      const store = await t.reopen(this);
      const all = await store.audit.all();
      expect(all[0]?.data).to.deep.equal({ nested: { z: 1, y: [true, null, 1.5] }, text: 'é"\\' });
      expect(verifyChain(all).ok).to.equal(true);
    });

    it('list() filters by type (trailing * for a prefix), actor, serial, time range, afterSeq and limit', async () => {
      const repo = t.store.audit;
      await repo.append([
        { at: 100, type: 'a', actor: 'alice', serial: 'S1', data: {} },
        { at: 200, type: 'b', actor: 'bob', serial: 'S2', data: {} },
        { at: 300, type: 'a', actor: 'bob', serial: 'S1', data: {} },
        { at: 400, type: 'a', actor: 'alice', serial: null, data: {} },
      ]);
      const seqs = async (f?: Parameters<typeof repo.list>[0]) => (await repo.list(f)).map((e) => e.seq);
      expect(await seqs()).to.deep.equal([1, 2, 3, 4]);
      expect(await seqs({ type: 'a' })).to.deep.equal([1, 3, 4]);
      expect(await seqs({ actor: 'bob' })).to.deep.equal([2, 3]);
      expect(await seqs({ serial: 'S1' })).to.deep.equal([1, 3]);
      expect(await seqs({ since: 200, until: 300 })).to.deep.equal([2, 3]);
      expect(await seqs({ afterSeq: 2, limit: 1 })).to.deep.equal([3]);
      expect(await seqs({ type: 'a', actor: 'alice', serial: 'S1' })).to.deep.equal([1]);
      await repo.append([
        { at: 500, type: 'break_glass.requested', actor: 'x', serial: null, data: {} },
        { at: 600, type: 'break_glass.approved', actor: 'x', serial: null, data: {} },
        { at: 700, type: 'break_glassXrequested', actor: 'x', serial: null, data: {} },
      ]);
      expect(await seqs({ type: 'break_glass.*' })).to.deep.equal([5, 6]);
      expect(await seqs({ type: 'break_%*' })).to.deep.equal([]);
    });

    it('append() of no entries returns none and writes nothing', async () => {
      expect(await t.store.audit.append([])).to.deep.equal([]);
      expect(await t.store.audit.all()).to.deep.equal([]);
      expect(await t.store.audit.list()).to.deep.equal([]);
    });
  });
}
