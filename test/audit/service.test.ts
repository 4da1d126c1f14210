import { expect } from 'chai';
import { createAuditService } from '../../server/audit/service.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';
import { createAuditRepo } from '../../server/store/audit.js';
import { useTempSqlite } from '../support/sqlite.js';
import type { AuditRepo } from '../../server/domain/ports.js';

describe('createAuditService', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 27, 12));
  const db = useTempSqlite('tg-audit-svc');

  it('records events with the clock time and verifies the chain', async () => {
    const audit = createAuditService({ repo: createAuditRepo(db.opened.db), clock, log: silentLogger() });
    const e = await audit.record({ type: 'admin.token.created', actor: 'root', data: { name: 'ci', role: 'gateway' } });
    expect(e).to.include({ seq: 1, at: clock.now(), type: 'admin.token.created', actor: 'root', serial: null });
    audit.decisionChanged({ serial: 'C02', tier: 'high', from: 'allow', to: 'deny', reasons: ['firewall'] });
    expect(await audit.list({ type: 'decision.changed' }), 'buffered until flushed').to.have.length(0);
    await audit.flush();
    const list = await audit.list({ type: 'decision.changed' });
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ actor: 'system', serial: 'C02' });
    expect(list[0]?.data).to.deep.equal({ tier: 'high', from: 'allow', to: 'deny', reasons: ['firewall'] });
    expect(await audit.verify()).to.deep.equal({ ok: true, count: 2 });
  });

  it('reports the first bad entry when a stored row was altered', async () => {
    const audit = createAuditService({ repo: createAuditRepo(db.opened.db), clock, log: silentLogger() });
    await audit.recordMany([
      { type: 'admin.token.created', actor: 'x' },
      { type: 'admin.token.revoked', actor: 'y' },
      { type: 'admin.apply', actor: 'z' },
    ]);
    db.opened.sqlite.prepare(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`).run();
    expect(await audit.verify()).to.include({ ok: false, seq: 2 });
  });

  it('tryRecord logs instead of throwing when the store fails', async () => {
    const broken: AuditRepo = {
      append: async () => {
        throw new Error('disk full');
      },
      list: async () => [],
      all: async () => [],
    };
    const audit = createAuditService({ repo: broken, clock, log: silentLogger() });
    expect(await audit.tryRecord({ type: 'admin.apply', actor: 'y' })).to.equal(undefined);
    let thrown: unknown;
    try {
      await audit.record({ type: 'admin.apply', actor: 'y' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.be.instanceOf(Error);
  });
});
