/** The BreakGlassRepo contract: grants stored whole, patched only in their mutable fields, listed newest first. */
import { expect } from 'chai';
import { useStore, grant, expectAppError, type StoreFactory } from './support.js';

export function breakGlassContract(factory: StoreFactory): void {
  describe('break-glass grants (BreakGlassRepo)', () => {
    const t = useStore(factory);

    it('round-trips a grant with every field', async () => {
      const g = grant({ approvedBy: 'root', reviewedBy: 'sec', reviewedAt: 5000, decisionComment: 'ok for INC-1' });
      await t.store.breakGlass.insert(g);
      expect(await t.store.breakGlass.get('g1')).to.deep.equal(g);
    });

    it('get() returns undefined for an unknown id', async () => {
      await t.store.breakGlass.insert(grant());
      expect(await t.store.breakGlass.get('nope')).to.equal(undefined);
    });

    it('insert() refuses a duplicate id with a conflict and keeps the first grant', async () => {
      await t.store.breakGlass.insert(grant());
      await expectAppError(t.store.breakGlass.insert(grant({ user: 'mallory' })), 'conflict');
      expect((await t.store.breakGlass.get('g1'))?.user).to.equal('alice');
    });

    it('update() changes only the mutable fields and returns the updated grant', async () => {
      await t.store.breakGlass.insert(grant({ status: 'pending', activatedAt: null, expiresAt: null }));
      const updated = await t.store.breakGlass.update('g1', {
        status: 'active',
        activatedAt: 2000,
        expiresAt: 9000,
        approvedBy: 'root',
        decisionComment: 'go ahead',
        user: 'mallory',
      });
      const want = {
        status: 'active',
        activatedAt: 2000,
        expiresAt: 9000,
        approvedBy: 'root',
        decisionComment: 'go ahead',
      };
      expect(updated).to.include({ ...want, user: 'alice' });
      expect(await t.store.breakGlass.get('g1')).to.deep.equal(updated);
    });

    it('update() with an empty patch returns the grant unchanged; undefined for an unknown id', async () => {
      const g = grant();
      await t.store.breakGlass.insert(g);
      expect(await t.store.breakGlass.update('g1', {})).to.deep.equal(g);
      expect(await t.store.breakGlass.update('missing', { status: 'revoked' })).to.equal(undefined);
      expect(await t.store.breakGlass.get('missing')).to.equal(undefined);
    });

    it('list() returns grants newest first, filtered by status, user, serial and since (inclusive)', async () => {
      const repo = t.store.breakGlass;
      await repo.insert(grant({ id: 'a', createdAt: 100, user: 'alice', serial: 'S1', status: 'expired' }));
      await repo.insert(grant({ id: 'b', createdAt: 200, user: 'bob', serial: 'S2', status: 'active' }));
      await repo.insert(grant({ id: 'c', createdAt: 300, user: 'alice', serial: 'S2', status: 'pending' }));
      const ids = async (f?: Parameters<typeof repo.list>[0]) => (await repo.list(f)).map((g) => g.id);
      expect(await ids()).to.deep.equal(['c', 'b', 'a']);
      expect(await ids({ user: 'alice' })).to.deep.equal(['c', 'a']);
      expect(await ids({ status: 'active' })).to.deep.equal(['b']);
      expect(await ids({ serial: 'S2', since: 250 })).to.deep.equal(['c']);
      expect(await ids({ since: 200 })).to.deep.equal(['c', 'b']);
      expect(await ids({ user: 'nobody' })).to.deep.equal([]);
    });
  });
}
