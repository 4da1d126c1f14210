/** The break-glass API over HTTP, through the real app (error boundary, body parser) and the real posture engine. */
import { expect } from 'chai';
import { makeHost, START, startHarness, type Harness } from '../people/support.js';

describe('/api/v1/break-glass', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.addHost(makeHost('C02XX'));
  });
  afterEach(async () => h.close());

  const api = (
    path: string,
    init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${h.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  const body = {
    serial: 'C02XX',
    user: 'alice@example.com',
    resource: 'wiki',
    reason: 'Paging incident INC-9',
    duration: '2h',
  };

  it('creates an active grant with a page token in the body (201)', async () => {
    const res = await api('/api/v1/break-glass', {
      method: 'POST',
      body: { ...body, token: h.link({ resource: 'wiki' }) },
    });
    expect(res.status).to.equal(201);
    const g = (await res.json()) as Record<string, unknown>;
    expect(g).to.include({
      status: 'active',
      user: 'alice@example.com',
      resource: 'wiki',
      duration: '2h',
      requested_by: 'alice@example.com',
      expires_at: new Date(START + 7_200_000).toISOString(),
    });
    expect(g.id).to.be.a('string');
  });

  it('accepts the page token in the X-Trustgate-Link header and fills the subject from it', async () => {
    const res = await api('/api/v1/break-glass', {
      method: 'POST',
      body: { reason: 'Paging incident INC-9', duration: '30m' },
      headers: { 'x-trustgate-link': h.link() },
    });
    expect(res.status).to.equal(201);
    expect(await res.json()).to.include({ status: 'pending', resource: 'prod-db' });
  });

  it('refuses a token whose subject does not match the body (403) and a forged token (401)', async () => {
    expect(
      (
        await api('/api/v1/break-glass', {
          method: 'POST',
          body: { ...body, user: 'bob@example.com', token: h.link({ resource: 'wiki' }) },
        })
      ).status,
    ).to.equal(403);
    expect(
      (await api('/api/v1/break-glass', { method: 'POST', body: { ...body, token: 'v1.abc.def' } })).status,
    ).to.equal(401);
  });

  it('lets an admin request for a user, requires the subject, and refuses other roles', async () => {
    const res = await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    expect(res.status).to.equal(201);
    expect(await res.json()).to.include({ requested_by: 'admin-token', user: 'alice@example.com' });
    expect(
      (
        await api('/api/v1/break-glass', {
          method: 'POST',
          body: { reason: body.reason, duration: '1h' },
          token: 'admin',
        })
      ).status,
    ).to.equal(400);
    expect((await api('/api/v1/break-glass', { method: 'POST', body, token: 'viewer' })).status).to.equal(403);
    expect((await api('/api/v1/break-glass', { method: 'POST', body })).status).to.equal(401);
  });

  it('refuses a never tier with 403 and the limit with 409, each with an error message', async () => {
    const never = await api('/api/v1/break-glass', {
      method: 'POST',
      body: { ...body, resource: 'vault' },
      token: 'admin',
    });
    expect(never.status).to.equal(403);
    expect(((await never.json()) as { error: { message: string } }).error.message).to.contain('not available');
    for (let i = 0; i < 3; i += 1)
      expect((await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' })).status).to.equal(201);
    const limit = await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    expect(limit.status).to.equal(409);
    expect(((await limit.json()) as { error: { code: string } }).error.code).to.equal('conflict');
  });

  it('rejects bodies that fail validation (unknown keys, bad duration) with 400', async () => {
    expect(
      (await api('/api/v1/break-glass', { method: 'POST', body: { ...body, extra: 1 }, token: 'admin' })).status,
    ).to.equal(400);
    expect(
      (await api('/api/v1/break-glass', { method: 'POST', body: { ...body, duration: '2 hours' }, token: 'admin' }))
        .status,
    ).to.equal(400);
  });

  it('approves, revokes and reviews through the admin endpoints; viewers may list but not mutate', async () => {
    const created = (await (
      await api('/api/v1/break-glass', { method: 'POST', body: { ...body, resource: 'prod-db' }, token: 'admin' })
    ).json()) as { id: string };
    expect(
      (await api(`/api/v1/break-glass/${created.id}/approve`, { method: 'POST', body: {}, token: 'viewer' })).status,
    ).to.equal(403);
    const approved = await api(`/api/v1/break-glass/${created.id}/approve`, {
      method: 'POST',
      body: { comment: 'ok' },
      token: 'admin',
    });
    expect(approved.status).to.equal(200);
    expect(await approved.json()).to.include({ status: 'active', approved_by: 'admin-token' });
    expect(h.verdict('C02XX', 'prod-db', 'alice@example.com')?.break_glass).to.include({ id: created.id });
    expect(
      await (await api(`/api/v1/break-glass/${created.id}/revoke`, { method: 'POST', token: 'admin' })).json(),
    ).to.include({ status: 'revoked' });
    expect(
      await (
        await api(`/api/v1/break-glass/${created.id}/review`, {
          method: 'POST',
          body: { comment: 'fine' },
          token: 'admin',
        })
      ).json(),
    ).to.include({ reviewed_by: 'admin-token' });
    expect((await api(`/api/v1/break-glass/${created.id}/review`, { method: 'POST', token: 'admin' })).status).to.equal(
      409,
    );
    const list = (await (await api('/api/v1/break-glass?status=revoked', { token: 'viewer' })).json()) as {
      grants: Array<{ id: string }>;
    };
    expect(list.grants.map((g) => g.id)).to.deep.equal([created.id]);
    expect((await api('/api/v1/break-glass/nope/approve', { method: 'POST', token: 'admin' })).status).to.equal(404);
  });

  it('declines a pending request only with a comment', async () => {
    const created = (await (
      await api('/api/v1/break-glass', { method: 'POST', body: { ...body, resource: 'prod-db' }, token: 'admin' })
    ).json()) as { id: string };
    expect((await api(`/api/v1/break-glass/${created.id}/deny`, { method: 'POST', token: 'admin' })).status).to.equal(
      400,
    );
    const res = await api(`/api/v1/break-glass/${created.id}/deny`, {
      method: 'POST',
      body: { comment: 'use the runbook' },
      token: 'admin',
    });
    expect(await res.json()).to.include({ status: 'denied', revoked_by: 'admin-token' });
  });

  it('lists frequent users with ?frequent=1', async () => {
    await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    const res = await api('/api/v1/break-glass?frequent=1', { token: 'viewer' });
    const out = (await res.json()) as { frequent: Array<Record<string, unknown>> };
    expect(out.frequent).to.have.length(1);
    expect(out.frequent[0]).to.include({
      user: 'alice@example.com',
      count: 2,
      limit: 3,
      window: '30d',
      at_limit: false,
    });
  });
});
