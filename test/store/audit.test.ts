import { expect } from 'chai';
import { createAuditRepo } from '../../server/store/audit.js';
import { useTempSqlite } from '../support/sqlite.js';
import { GENESIS_HASH, verifyChain } from '../../server/audit/chain.js';

describe('createAuditRepo', () => {
  const db = useTempSqlite('tg-audit');

  it('chains appended entries from the genesis hash, across separate appends', async () => {
    const repo = createAuditRepo(db.opened.db);
    const first = await repo.append([
      { at: 1000, type: 'break_glass.requested', actor: 'alice', serial: 'C02', data: { b: 2, a: [1, 'x'] } },
      { at: 1001, type: 'host.enrolled', actor: 'system', serial: null, data: null },
    ]);
    const second = await repo.append([{ at: 1002, type: 'token.created', actor: 'admin', serial: null, data: { role: 'viewer' } }]);
    expect(first.map((e) => e.seq)).to.deep.equal([1, 2]);
    expect(first[0]?.prevHash).to.equal(GENESIS_HASH);
    expect(first[1]?.prevHash).to.equal(first[0]?.hash);
    expect(second[0]?.seq).to.equal(3);
    expect(second[0]?.prevHash).to.equal(first[1]?.hash);
    const all = await repo.all();
    expect(all).to.deep.equal([...first, ...second]);
    expect(verifyChain(all)).to.deep.equal({ ok: true, count: 3 });
  });

  it('produces hashes that verifyChain accepts after reopening the database', async () => {
    await createAuditRepo(db.opened.db).append([
      { at: 5, type: 't', actor: 'a', serial: 'S', data: { nested: { z: 1, y: [true, null, 1.5] }, text: 'é"\\' } },
    ]);
    db.reopen();
    const all = await createAuditRepo(db.opened.db).all();
    expect(all[0]?.data).to.deep.equal({ nested: { z: 1, y: [true, null, 1.5] }, text: 'é"\\' });
    expect(verifyChain(all).ok).to.equal(true);
  });

  it('lets verifyChain name the entry whose row was altered in the database', async () => {
    const repo = createAuditRepo(db.opened.db);
    for (let i = 0; i < 5; i += 1) await repo.append([{ at: i, type: 'x', actor: 'admin', serial: null, data: { i } }]);
    db.opened.sqlite.prepare(`UPDATE audit_log SET data = '{"i":99}' WHERE seq = 3`).run();
    expect(verifyChain(await repo.all())).to.include({ ok: false, seq: 3 });
  });

  it('lets verifyChain name the missing entry when a row was deleted', async () => {
    const repo = createAuditRepo(db.opened.db);
    for (let i = 0; i < 5; i += 1) await repo.append([{ at: i, type: 'x', actor: 'admin', serial: null, data: { i } }]);
    db.opened.sqlite.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    const res = verifyChain(await repo.all());
    expect(res).to.include({ ok: false, seq: 2 });
  });

  it('filters by type, actor, serial, time range, afterSeq and limit, in seq order', async () => {
    const repo = createAuditRepo(db.opened.db);
    await repo.append([
      { at: 100, type: 'a', actor: 'alice', serial: 'S1', data: {} },
      { at: 200, type: 'b', actor: 'bob', serial: 'S2', data: {} },
      { at: 300, type: 'a', actor: 'bob', serial: 'S1', data: {} },
      { at: 400, type: 'a', actor: 'alice', serial: null, data: {} },
    ]);
    const seqs = async (f: Parameters<typeof repo.list>[0]) => (await repo.list(f)).map((e) => e.seq);
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

  it('returns no entries and writes nothing for an empty append', async () => {
    const repo = createAuditRepo(db.opened.db);
    expect(await repo.append([])).to.deep.equal([]);
    expect(await repo.all()).to.deep.equal([]);
  });
});
