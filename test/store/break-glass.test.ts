import { expect } from 'chai';
import { createBreakGlassRepo } from '../../server/store/break-glass.js';
import { useTempSqlite } from '../support/sqlite.js';
import type { BreakGlassGrant } from '../../server/domain/types.js';

const grant = (over: Partial<BreakGlassGrant> = {}): BreakGlassGrant => ({
  id: 'g1', serial: 'C02XX', user: 'alice', resource: 'prod-db', tier: 'high', reason: 'Paging incident INC-1',
  durationMs: 3_600_000, status: 'active', createdAt: 1000, activatedAt: 1000, expiresAt: 3_601_000,
  requestedBy: 'alice', approvedBy: null, revokedBy: null, reviewedBy: null, reviewedAt: null, decisionComment: null, ...over,
});

describe('createBreakGlassRepo', () => {
  const db = useTempSqlite('tg-bg');

  it('round-trips a grant with every field', async () => {
    const repo = createBreakGlassRepo(db.opened.db);
    const g = grant({ approvedBy: 'root', reviewedBy: 'sec', reviewedAt: 5000, decisionComment: 'ok for INC-1' });
    await repo.insert(g);
    expect(await repo.get('g1')).to.deep.equal(g);
    expect(await repo.get('nope')).to.equal(undefined);
  });

  it('refuses a duplicate id with a conflict error', async () => {
    const repo = createBreakGlassRepo(db.opened.db);
    await repo.insert(grant());
    let code: unknown;
    try { await repo.insert(grant()); } catch (e) { code = (e as { code?: unknown }).code; }
    expect(code).to.equal('conflict');
  });

  it('updates only the mutable fields and returns the updated grant', async () => {
    const repo = createBreakGlassRepo(db.opened.db);
    await repo.insert(grant({ status: 'pending', activatedAt: null, expiresAt: null }));
    const updated = await repo.update('g1', { status: 'active', activatedAt: 2000, expiresAt: 9000, approvedBy: 'root', decisionComment: 'go ahead', user: 'mallory' });
    expect(updated).to.include({ status: 'active', activatedAt: 2000, expiresAt: 9000, approvedBy: 'root', decisionComment: 'go ahead', user: 'alice' });
    expect(await repo.update('missing', { status: 'revoked' })).to.equal(undefined);
  });

  it('lists newest first, filtered by status, user, serial and since', async () => {
    const repo = createBreakGlassRepo(db.opened.db);
    await repo.insert(grant({ id: 'a', createdAt: 100, user: 'alice', serial: 'S1', status: 'expired' }));
    await repo.insert(grant({ id: 'b', createdAt: 200, user: 'bob', serial: 'S2', status: 'active' }));
    await repo.insert(grant({ id: 'c', createdAt: 300, user: 'alice', serial: 'S2', status: 'pending' }));
    const ids = async (f?: Parameters<typeof repo.list>[0]) => (await repo.list(f)).map((g) => g.id);
    expect(await ids()).to.deep.equal(['c', 'b', 'a']);
    expect(await ids({ user: 'alice' })).to.deep.equal(['c', 'a']);
    expect(await ids({ status: 'active' })).to.deep.equal(['b']);
    expect(await ids({ serial: 'S2', since: 250 })).to.deep.equal(['c']);
  });
});
