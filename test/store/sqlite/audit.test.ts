/**
 * SQLite only: tampering with audit rows behind the store's back (the contract in test/store/contract/audit.ts
 * covers appending and reading). verifyChain must name the altered or missing entry.
 */
import { expect } from 'chai';
import { createAuditRepo } from '../../../server/store/audit.js';
import { useTempSqlite } from '../../support/sqlite.js';
import { verifyChain } from '../../../server/audit/chain.js';

describe('SQLite audit_log tampering', () => {
  const db = useTempSqlite('tg-audit');

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
});
