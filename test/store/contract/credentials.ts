/** The EnrollSecretRepo and TokenRepo contracts: hashes in, records without hashes out, revocation. */
import { expect } from 'chai';
import { useStore, expectAppError, T0, type StoreFactory } from './support.js';

export function credentialsContract(factory: StoreFactory): void {
  describe('enroll secrets (EnrollSecretRepo)', () => {
    const t = useStore(factory);
    const create = (name: string, expiresAt: number | null = null, at = T0) =>
      t.store.secrets.create({ name, hash: `hash-${name}`, expiresAt, at });

    it('create() returns the secret without its hash', async () => {
      const s = await create('default', T0 + 60_000);
      expect(s).to.deep.equal({ id: s.id, name: 'default', createdAt: T0, expiresAt: T0 + 60_000, revokedAt: null });
      expect(s).to.not.have.property('hash');
    });

    it('create() refuses a name already taken with a conflict, even by a revoked secret', async () => {
      await create('default');
      await expectAppError(create('default'), 'conflict');
      await t.store.secrets.revoke('default', T0 + 1);
      await expectAppError(create('default'), 'conflict');
      expect((await t.store.secrets.list()).map((s) => s.name)).to.deep.equal(['default']);
    });

    it('list() returns every secret in creation order, revoked ones included, without hashes', async () => {
      await create('b');
      await create('a');
      await t.store.secrets.revoke('b', T0 + 5);
      const list = await t.store.secrets.list();
      expect(list.map((s) => [s.name, s.revokedAt])).to.deep.equal([
        ['b', T0 + 5],
        ['a', null],
      ]);
      for (const s of list) expect(s).to.not.have.property('hash');
    });

    it('active() returns the secrets neither revoked nor expired at that time, with their hashes', async () => {
      await create('forever');
      await create('expiring', T0 + 1000);
      await create('revoked');
      await t.store.secrets.revoke('revoked', T0);
      const names = async (now: number) => (await t.store.secrets.active(now)).map((s) => [s.name, s.hash]).sort();
      expect(await names(T0 + 999)).to.deep.equal([
        ['expiring', 'hash-expiring'],
        ['forever', 'hash-forever'],
      ]);
      // expiresAt is the first instant the secret no longer works
      expect(await names(T0 + 1000)).to.deep.equal([['forever', 'hash-forever']]);
    });

    it('revoke() answers true once, then false; false for an unknown name', async () => {
      await create('default');
      expect(await t.store.secrets.revoke('default', T0 + 1)).to.equal(true);
      expect(await t.store.secrets.revoke('default', T0 + 2)).to.equal(false);
      expect(await t.store.secrets.revoke('nope', T0 + 2)).to.equal(false);
      expect((await t.store.secrets.list())[0]?.revokedAt).to.equal(T0 + 1);
    });
  });

  describe('API tokens (TokenRepo)', () => {
    const t = useStore(factory);
    const create = (name: string, role: 'admin' | 'gateway' | 'viewer' = 'admin', at = T0) =>
      t.store.tokens.create({ name, role, hash: `hash-${name}-${at}`, at });

    it('create() returns the token with its role and without its hash', async () => {
      const tok = await create('ci', 'viewer');
      expect(tok).to.deep.equal({
        id: tok.id,
        name: 'ci',
        role: 'viewer',
        createdAt: T0,
        revokedAt: null,
        lastUsedAt: null,
      });
      expect(tok).to.not.have.property('hash');
    });

    it('create() refuses with a conflict a hash another token holds, revoked or not', async () => {
      const first = await t.store.tokens.create({ name: 'a', role: 'admin', hash: 'same', at: T0 });
      await expectAppError(t.store.tokens.create({ name: 'b', role: 'viewer', hash: 'same', at: T0 }), 'conflict');
      await t.store.tokens.revoke('a', T0 + 1);
      await expectAppError(t.store.tokens.create({ name: 'c', role: 'viewer', hash: 'same', at: T0 }), 'conflict');
      expect((await t.store.tokens.list()).map((x) => x.id)).to.deep.equal([first.id]);
    });

    it('findActiveByHash() finds the token of a hash', async () => {
      const tok = await create('gw', 'gateway');
      expect(await t.store.tokens.findActiveByHash(`hash-gw-${T0}`)).to.deep.equal(tok);
    });

    it('findActiveByHash() returns undefined for an unknown hash and for a revoked token', async () => {
      await create('gw', 'gateway');
      expect(await t.store.tokens.findActiveByHash('unknown')).to.equal(undefined);
      await t.store.tokens.revoke('gw', T0 + 1);
      expect(await t.store.tokens.findActiveByHash(`hash-gw-${T0}`)).to.equal(undefined);
    });

    it('revoke() takes a name or a numeric id, answers true once, and false for an unknown one', async () => {
      const a = await create('a');
      await create('b');
      expect(await t.store.tokens.revoke(String(a.id), T0 + 1)).to.equal(true);
      expect(await t.store.tokens.revoke(String(a.id), T0 + 2)).to.equal(false);
      expect(await t.store.tokens.revoke('b', T0 + 3)).to.equal(true);
      expect(await t.store.tokens.revoke('b', T0 + 4)).to.equal(false);
      expect(await t.store.tokens.revoke('nope', T0 + 4)).to.equal(false);
      expect(await t.store.tokens.revoke('424242', T0 + 4)).to.equal(false);
      expect((await t.store.tokens.list()).map((x) => [x.name, x.revokedAt])).to.deep.equal([
        ['a', T0 + 1],
        ['b', T0 + 3],
      ]);
    });

    it('markUsed() records the last use, seen by list() and findActiveByHash()', async () => {
      const tok = await create('ci');
      await t.store.tokens.markUsed(tok.id, T0 + 500);
      expect((await t.store.tokens.list())[0]?.lastUsedAt).to.equal(T0 + 500);
      expect((await t.store.tokens.findActiveByHash(`hash-ci-${T0}`))?.lastUsedAt).to.equal(T0 + 500);
    });

    it('list() returns every token in creation order, revoked ones included, without hashes', async () => {
      await create('z', 'viewer');
      await create('a', 'gateway');
      await t.store.tokens.revoke('z', T0 + 1);
      const list = await t.store.tokens.list();
      expect(list.map((x) => [x.name, x.role, x.revokedAt])).to.deep.equal([
        ['z', 'viewer', T0 + 1],
        ['a', 'gateway', null],
      ]);
      for (const x of list) expect(x).to.not.have.property('hash');
    });
  });
}
