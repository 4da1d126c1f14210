/** The audit API over HTTP, through the real app (error boundary) with the audit service on SQLite. */
import { expect } from 'chai';
import { START, startHarness, type Harness } from '../people/support.js';

const MIN = 60_000;

describe('/api/v1/audit', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('filters entries by type, actor, serial and time, and verifies the chain', async () => {
    await h.audit.record({ type: 'admin.token.created', actor: 'root', data: { name: 'ci' } });
    h.clock.advance(MIN);
    await h.audit.record({ type: 'break_glass.requested', actor: 'alice', serial: 'C02XX', data: {} });
    h.clock.advance(MIN);
    await h.audit.record({ type: 'break_glass.approved', actor: 'root', serial: 'C02XX', data: {} });
    const get = async (q: string) =>
      (await (await fetch(`${h.url}/api/v1/audit${q}`, { headers: { authorization: 'Bearer viewer' } })).json()) as {
        entries: Array<Record<string, unknown>>;
      };
    expect((await get('?actor=root')).entries.map((e) => e.seq)).to.deep.equal([1, 3]);
    expect((await get('?serial=C02XX&type=break_glass.approved')).entries.map((e) => e.seq)).to.deep.equal([3]);
    expect(
      (await get(`?since=${new Date(START + MIN).toISOString()}&until=${START + MIN}`)).entries.map((e) => e.seq),
    ).to.deep.equal([2]);
    const first = (await get('?limit=1')).entries[0];
    expect(first).to.include({ seq: 1, at: new Date(START).toISOString(), type: 'admin.token.created', actor: 'root' });
    expect(first?.prev_hash).to.equal('0'.repeat(64));
    const verify = await (
      await fetch(`${h.url}/api/v1/audit/verify`, { headers: { authorization: 'Bearer admin' } })
    ).json();
    expect(verify).to.deep.include({ ok: true, count: 3 });
    expect((verify as { head: { seq: number } }).head.seq).to.equal(3);
  });

  it('rejects bad filters with 400 and gateway tokens with 403', async () => {
    expect(
      (await fetch(`${h.url}/api/v1/audit?limit=0`, { headers: { authorization: 'Bearer admin' } })).status,
    ).to.equal(400);
    expect(
      (await fetch(`${h.url}/api/v1/audit?since=yesterday`, { headers: { authorization: 'Bearer admin' } })).status,
    ).to.equal(400);
    expect(
      (await fetch(`${h.url}/api/v1/audit?bogus=1`, { headers: { authorization: 'Bearer admin' } })).status,
    ).to.equal(400);
    expect((await fetch(`${h.url}/api/v1/audit`, { headers: { authorization: 'Bearer gateway' } })).status).to.equal(
      403,
    );
  });
});
