import { expect } from 'chai';
import { AppError } from '../../server/shared/errors.js';
import type { SlackMessage, WebhookNotifier } from '../../server/breakglass/webhook.js';
import { createBreakGlassService } from '../../server/breakglass/service.js';
import { silentLogger } from '../../server/shared/log.js';
import { makeHost, makePolicy, startHarness, type Harness } from '../people/support.js';

async function refusal(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const HOUR = 3_600_000;

describe('createBreakGlassService', () => {
  let h: Harness;
  const sent: Array<{ url: string; message: SlackMessage }> = [];
  const webhook: WebhookNotifier = {
    send: async (url, message) => {
      sent.push({ url, message });
      return true;
    },
    idle: async () => undefined,
  };
  const req = (over: Partial<Parameters<Harness['breakGlass']['request']>[0]> = {}) =>
    h.breakGlass.request({
      serial: 'C02XX',
      user: 'alice@example.com',
      resource: 'wiki',
      reason: 'Paging incident INC-123',
      durationMs: HOUR,
      requestedBy: 'alice@example.com',
      ...over,
    });

  beforeEach(async () => {
    sent.length = 0;
    h = await startHarness({ policy: makePolicy({ webhook: 'https://hooks.example.com/x' }), webhook });
    await h.addHost(makeHost('C02XX'));
  });
  afterEach(async () => h.close());

  it('grants at once on an approval-none tier, pushes the grant to the overlay, audits and notifies', async () => {
    const { grant, created } = await req();
    expect(created).to.equal(true);
    expect(grant).to.include({
      status: 'active',
      tier: 'medium',
      activatedAt: h.clock.now(),
      expiresAt: h.clock.now() + HOUR,
      requestedBy: 'alice@example.com',
    });
    expect(h.grants.get(grant.id)).to.deep.equal(grant);
    const audit = await h.audit.list({ type: 'break_glass.requested' });
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({ actor: 'alice@example.com', serial: 'C02XX' });
    expect(sent).to.have.length(1);
    expect(sent[0]?.url).to.equal('https://hooks.example.com/x');
    expect(sent[0]?.message.text).to.contain('Emergency access granted to alice');
  });

  it('creates a pending grant on an approval-required tier, active only after an admin approves', async () => {
    const { grant } = await req({ resource: 'prod-db' });
    expect(grant).to.include({ status: 'pending', activatedAt: null, expiresAt: null });
    expect(h.grants.size).to.equal(0);
    h.clock.advance(60_000);
    const approved = await h.breakGlass.approve(grant.id, 'secops', 'ok for INC-123');
    expect(approved).to.include({
      status: 'active',
      approvedBy: 'secops',
      activatedAt: h.clock.now(),
      expiresAt: h.clock.now() + HOUR,
    });
    expect(h.grants.has(grant.id)).to.equal(true);
    expect((await h.audit.list({ type: 'break_glass.approved' }))[0]).to.include({ actor: 'secops' });
    expect(sent.map((s) => s.message.text)).to.satisfy(
      (t: string[]) => t[0]?.includes('needs approval') && t[1]?.includes('approved by secops'),
    );
    expect((await refusal(h.breakGlass.approve(grant.id, 'secops'))).code).to.equal('conflict');
  });

  it('refuses a never tier with forbidden and audits the refusal', async () => {
    const e = await refusal(req({ resource: 'vault' }));
    expect(e.code).to.equal('forbidden');
    expect(e.message).to.contain('not available for vault');
    expect((await h.audit.list({ type: 'break_glass.refused' }))[0]?.data).to.include({
      why: 'tier_never',
      resource: 'vault',
    });
    expect(await h.breakGlass.list()).to.deep.equal([]);
  });

  it('refuses a duration over max_duration with forbidden', async () => {
    const e = await refusal(req({ durationMs: 5 * HOUR }));
    expect(e.code).to.equal('forbidden');
    expect(e.message).to.contain('4h');
  });

  it('refuses (conflict) past the per-user limit in its window; allows again once the oldest leaves', async () => {
    for (let i = 0; i < 3; i += 1) {
      await req();
      h.clock.advance(86_400_000);
    }
    const e = await refusal(req());
    expect(e.code).to.equal('conflict');
    expect(e.message).to.contain('3 of 3');
    expect(e.details).to.include({ why: 'limit' });
    // Another user is not affected.
    expect((await req({ user: 'bob@example.com', requestedBy: 'bob@example.com' })).grant.status).to.equal('active');
    // 30 days after the first request, one slot frees up.
    h.clock.advance(27 * 86_400_000 + 1);
    expect((await req()).created).to.equal(true);
  });

  it('does not count requests an approver declined against the limit', async () => {
    for (let i = 0; i < 3; i += 1) {
      const { grant } = await req({ resource: 'prod-db' });
      await h.breakGlass.deny(grant.id, 'secops', 'use the runbook instead');
    }
    expect((await req()).created).to.equal(true);
  });

  it('refuses an unknown resource and an unknown device with not_found, and a short reason with invalid', async () => {
    expect((await refusal(req({ resource: 'nope' }))).code).to.equal('not_found');
    expect((await refusal(req({ serial: 'NOPE' }))).code).to.equal('not_found');
    expect((await refusal(req({ reason: '  short  ' }))).code).to.equal('invalid');
    expect((await refusal(req({ user: ' ' }))).code).to.equal('invalid');
  });

  it('returns the same grant for a repeated submit with the same idempotency key', async () => {
    const a = await req({ idempotencyKey: 'k1' });
    const b = await req({ idempotencyKey: 'k1' });
    expect(b.created).to.equal(false);
    expect(b.grant.id).to.equal(a.grant.id);
    expect(await h.breakGlass.list()).to.have.length(1);
  });

  it('expires active grants on their own: overlay cleared and expiry audited', async () => {
    const { grant } = await req();
    h.clock.advance(HOUR - 1);
    expect(await h.breakGlass.sweep()).to.deep.equal([]);
    h.clock.advance(1);
    const expired = await h.breakGlass.sweep();
    expect(expired.map((g) => g.id)).to.deep.equal([grant.id]);
    expect((await h.breakGlass.get(grant.id))?.status).to.equal('expired');
    expect(h.grants.size).to.equal(0);
    expect(await h.audit.list({ type: 'break_glass.expired' })).to.have.length(1);
  });

  it('expires pending requests nobody decided within the pending TTL', async () => {
    const { grant } = await req({ resource: 'prod-db' });
    h.clock.advance(HOUR);
    await h.breakGlass.sweep();
    expect((await h.breakGlass.get(grant.id))?.status).to.equal('expired');
  });

  it('revokes an active grant (overlay cleared), then lets it be reviewed exactly once', async () => {
    const { grant } = await req();
    h.clock.advance(60_000);
    const revoked = await h.breakGlass.revoke(grant.id, 'secops', 'laptop reported stolen');
    expect(revoked).to.include({ status: 'revoked', revokedBy: 'secops', expiresAt: h.clock.now() });
    expect(h.grants.size).to.equal(0);
    expect((await refusal(h.breakGlass.revoke(grant.id, 'secops'))).code).to.equal('conflict');
    const reviewed = await h.breakGlass.review(grant.id, 'auditor');
    expect(reviewed).to.include({ reviewedBy: 'auditor', reviewedAt: h.clock.now() });
    expect((await refusal(h.breakGlass.review(grant.id, 'auditor'))).code).to.equal('conflict');
  });

  it('refuses to review a pending grant and lets the requester cancel it', async () => {
    const { grant } = await req({ resource: 'prod-db' });
    expect((await refusal(h.breakGlass.review(grant.id, 'auditor'))).code).to.equal('conflict');
    expect((await refusal(h.breakGlass.cancel(grant.id, 'mallory@example.com'))).code).to.equal('not_found');
    expect(await h.breakGlass.cancel(grant.id, 'alice@example.com')).to.include({
      status: 'revoked',
      revokedBy: 'alice@example.com',
    });
    expect(await h.audit.list({ type: 'break_glass.cancelled' })).to.have.length(1);
  });

  it('lists frequent users with their counts, limit and last reasons', async () => {
    await req();
    await req({ reason: 'Second incident INC-124' });
    await req({ user: 'bob@example.com', requestedBy: 'bob@example.com' });
    const freq = await h.breakGlass.frequent();
    expect(freq).to.have.length(1);
    expect(freq[0]).to.include({ user: 'alice@example.com', count: 2, limit: 3 });
    expect(freq[0]?.lastReasons).to.include('Second incident INC-124');
    expect(await h.breakGlass.frequent({ min: 1 })).to.have.length(2);
  });

  it('reloads active grants into the overlay at startup and expires those that ended while down', async () => {
    const { grant: a } = await req();
    const { grant: b } = await req({ durationMs: 4 * HOUR });
    h.grants.clear();
    h.clock.advance(2 * HOUR);
    await h.breakGlass.load();
    expect([...h.grants.keys()]).to.deep.equal([b.id]);
    expect((await h.breakGlass.get(a.id))?.status).to.equal('expired');
  });

  it('audits the first use of a grant once and counts uses', async () => {
    const { grant } = await req();
    h.breakGlass.noteUse(grant.id, { resource: 'wiki' });
    h.breakGlass.noteUse(grant.id, { resource: 'wiki' });
    expect(h.breakGlass.uses(grant.id)).to.equal(2);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(await h.audit.list({ type: 'break_glass.used' })).to.have.length(1);
  });

  it('leaves an audit chain that verifies after a full lifecycle', async () => {
    const { grant } = await req({ resource: 'prod-db' });
    await h.breakGlass.approve(grant.id, 'secops');
    await h.breakGlass.revoke(grant.id, 'secops');
    await h.breakGlass.review(grant.id, 'auditor');
    await refusal(req({ resource: 'vault' }));
    expect(await h.audit.verify()).to.deep.equal({ ok: true, count: 5 });
  });

  it('serialises concurrent requests so the limit cannot be raced past', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => req()));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(3);
    expect(results.filter((r) => r.status === 'rejected')).to.have.length(3);
  });
});

describe('BreakGlassService.eligibility', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('still finds an active grant older than a short limit window', async () => {
    h = await startHarness({ policy: makePolicy({ limit: { count: 3, windowMs: HOUR } }) });
    await h.addHost(makeHost('C02XX'));
    const { grant } = await h.breakGlass.request({
      serial: 'C02XX',
      user: 'alice@example.com',
      resource: 'wiki',
      reason: 'Paging incident INC-1',
      durationMs: 4 * HOUR,
      requestedBy: 'alice@example.com',
    });
    h.clock.advance(3 * HOUR);
    const e = await h.breakGlass.eligibility('C02XX', 'alice@example.com', 'wiki');
    expect(e?.active?.id).to.equal(grant.id);
    expect(e?.usage).to.include({ used: 0, limit: 3 });
  });

  it('shows a decline only while it is the newest request for this device and tier', async () => {
    h = await startHarness();
    await h.addHost(makeHost('C02XX'));
    const base = {
      serial: 'C02XX',
      user: 'alice@example.com',
      resource: 'prod-db',
      reason: 'Paging incident INC-1',
      durationMs: HOUR,
      requestedBy: 'alice@example.com',
    };
    const { grant } = await h.breakGlass.request(base);
    await h.breakGlass.deny(grant.id, 'secops', 'not now');
    expect((await h.breakGlass.eligibility('C02XX', 'alice@example.com', 'prod-db'))?.declined).to.include({
      id: grant.id,
      decisionComment: 'not now',
      revokedBy: 'secops',
    });
    // the comment is stored with the grant: a restarted server (a new service on the same database) still shows it
    const restarted = createBreakGlassService({
      repo: h.store.breakGlass,
      audit: h.audit,
      clock: h.clock,
      log: silentLogger(),
      policy: () => h.policy,
      grants: { add: () => undefined, remove: () => undefined },
      deviceKnown: async () => true,
    });
    expect((await restarted.eligibility('C02XX', 'alice@example.com', 'prod-db'))?.declined).to.include({
      id: grant.id,
      decisionComment: 'not now',
      revokedBy: 'secops',
    });
    h.clock.advance(1000);
    await h.breakGlass.request(base);
    expect((await h.breakGlass.eligibility('C02XX', 'alice@example.com', 'prod-db'))?.declined).to.equal(undefined);
  });
});
