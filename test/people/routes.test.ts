import { expect } from 'chai';
import { csrfOf, makeHost, postForm, START, startHarness, type Harness } from './support.js';

const MIN = 60_000;

describe('remediation page routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.engine.addHost(makeHost('C02XX', 1));
    h.engine.setState(1, 'disk_encryption', 'pass', START - MIN);
    h.engine.setState(1, 'firewall', 'fail', START - 2 * MIN, 'Turn on the firewall.');
    h.engine.setState(1, 'os_version', 'fail', START - 2 * MIN, 'Your macOS is 12.1; we need 14.4 or later.');
  });
  afterEach(async () => h.close());

  const page = async (t: string, extra = '') => {
    const res = await fetch(`${h.url}/device?t=${encodeURIComponent(t)}${extra}`);
    return { res, text: await res.text() };
  };
  const status = async (t: string) => (await fetch(`${h.url}/device/status?t=${encodeURIComponent(t)}`)).json() as Promise<Record<string, unknown>>;

  describe('GET /device', () => {
    it('shows every tier check, failing first with message and doc link, and when data was last received', async () => {
      const { res, text } = await page(h.link());
      expect(res.status).to.equal(200);
      expect(text).to.contain('<h1 id="h1">Fix 2 things to open Production database</h1>');
      expect(text).to.contain('<title>2 fixes needed · Production database · Trustgate</title>');
      expect(text.indexOf('Firewall is on')).to.be.lessThan(text.indexOf('Disk encryption is on'));
      expect(text).to.contain('Your macOS is 12.1; we need 14.4 or later.');
      expect(text).to.contain('href="https://support.apple.com/guide/mac-help/firewall"');
      expect(text).to.contain('1 check passed');
      expect(text).to.contain('Last report from your laptop: 60 s ago (13:59 UTC)');
      expect(text).to.match(/role="status"/);
    });

    it('sends no-store, no-referrer and a strict CSP', async () => {
      const { res } = await page(h.link());
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(res.headers.get('content-security-policy')).to.contain("script-src 'self'");
    });

    it('marks a passing check older than the tier budget as needing a fresh check', async () => {
      h.engine.setState(1, 'firewall', 'pass', START - 20 * MIN);
      h.engine.setState(1, 'os_version', 'pass', START - MIN);
      const { text } = await page(h.link());
      expect(text).to.contain('We need a fresh check of your laptop');
      expect(text).to.contain('Needs a fresh check');
    });

    it('shows a check that could not run as not the person’s fault', async () => {
      h.engine.setState(1, 'firewall', 'error', START - MIN);
      h.engine.setState(1, 'os_version', 'pass', START - MIN);
      const { text } = await page(h.link());
      expect(text).to.contain("We couldn't check your laptop");
      expect(text).to.contain("This isn't something you did");
    });

    it('renders a forged link as a clear page with 403 and no data', async () => {
      const good = h.link();
      const forged = `${good.slice(0, -4)}AAAA`;
      const { res, text } = await page(forged);
      expect(res.status).to.equal(403);
      expect(text).to.contain("This link doesn't work");
      for (const leak of ['C02XX', 'Firewall', 'alice', 'Production database']) expect(text).to.not.contain(leak);
    });

    it('renders a link to a resource that left the policy as 404 with no data', async () => {
      const { res, text } = await page(h.link({ resource: 'gone' }));
      expect(res.status).to.equal(404);
      expect(text).to.contain("This link doesn't work");
      expect(text).to.not.contain('C02XX');
    });

    it('renders a missing token as 400 with the same page', async () => {
      const res = await fetch(`${h.url}/device`);
      expect(res.status).to.equal(400);
      expect(await res.text()).to.contain("This link doesn't work");
    });

    it('renders an expired link as 410 with a way back and no device data', async () => {
      const t = h.link({ expiresAt: START - 1 });
      const { res, text } = await page(t);
      expect(res.status).to.equal(410);
      expect(text).to.contain('This link has expired');
      expect(text).to.contain('href="https://db.internal.example.com/"');
      for (const leak of ['C02XX', 'Firewall', 'macOS']) expect(text).to.not.contain(leak);
    });

    it('says the laptop is not recognised for an unknown serial, naming only the serial from the link', async () => {
      const { res, text } = await page(h.link({ serial: 'ZZZ999' }));
      expect(res.status).to.equal(200);
      expect(text).to.contain("We don't recognise this laptop");
      expect(text).to.contain('ZZZ999');
    });

    it('escapes every interpolated value (no HTML injection through messages or names)', async () => {
      h.engine.setState(1, 'firewall', 'fail', START - MIN, 'Bad <img src=x onerror=alert(1)> [x](javascript:alert(1))');
      const { text } = await page(h.link({ user: '<b>eve</b>' }));
      expect(text).to.not.contain('<img src=x');
      expect(text).to.not.contain('<b>eve</b>');
      expect(text).to.not.contain('href="javascript:');
      expect(text).to.contain('&lt;img src=x');
    });

    it('shows access restored when the verdict allows', async () => {
      h.engine.setState(1, 'firewall', 'pass', START - MIN);
      h.engine.setState(1, 'os_version', 'pass', START - MIN);
      const { text } = await page(h.link());
      expect(text).to.contain("You're all set. You can open Production database again");
      expect(text).to.contain('Continue to Production database');
    });

    it('serves the stylesheet and the script', async () => {
      const css = await fetch(`${h.url}/device/assets/page.css`);
      const js = await fetch(`${h.url}/device/assets/page.js`);
      expect(css.headers.get('content-type')).to.contain('text/css');
      expect(js.headers.get('content-type')).to.contain('javascript');
      expect(await css.text()).to.contain('prefers-color-scheme');
      expect(await js.text()).to.contain('EventSource');
    });
  });

  describe('recheck', () => {
    it('queues a recheck from a plain form post, redirects 303 and shows progress without JS', async () => {
      const t = h.link();
      const csrf = csrfOf((await page(t)).text);
      const res = await postForm(`${h.url}/device/recheck`, { t, csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal(`/device?t=${encodeURIComponent(t)}&m=recheck`);
      expect(h.engine.rechecks).to.deep.equal([{ serial: 'C02XX', actor: 'alice (remediation page)' }]);
      const { text } = await page(t, '&m=recheck');
      expect(text).to.contain('Checking your laptop… usually under 30 seconds.');
      expect(text).to.contain('Reload in about 30 seconds to see the result');
      expect(text).to.contain('aria-disabled="true"');
    });

    it('answers JSON 202, then refuses a second request inside the cool-down with 409 and Retry-After', async () => {
      const t = h.link();
      const csrf = csrfOf((await page(t)).text);
      const a = await postForm(`${h.url}/device/recheck`, { t, csrf }, { accept: 'application/json' });
      expect(a.status).to.equal(202);
      expect(await a.json()).to.deep.include({ queued: ['firewall', 'os_version'], requested_at: START });
      h.clock.advance(5000);
      const b = await postForm(`${h.url}/device/recheck`, { t, csrf }, { accept: 'application/json' });
      expect(b.status).to.equal(409);
      expect(b.headers.get('retry-after')).to.equal('10');
      h.clock.advance(10_000);
      expect((await postForm(`${h.url}/device/recheck`, { t, csrf }, { accept: 'application/json' })).status).to.equal(202);
    });

    it('refuses a form post with a wrong CSRF token', async () => {
      const res = await postForm(`${h.url}/device/recheck`, { t: h.link(), csrf: 'x'.repeat(32) });
      expect(res.status).to.equal(403);
      expect(h.engine.rechecks).to.deep.equal([]);
    });

    it('goes waiting → restored when a newer passing result lands', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      expect((await status(t)).state).to.equal('checking');
      h.clock.advance(8000);
      h.engine.setState(1, 'firewall', 'pass', h.clock.now());
      h.engine.setState(1, 'os_version', 'pass', h.clock.now());
      const s = await status(t);
      expect(s).to.include({ state: 'restored', decision: 'allow', status_text: "You're good — access restored." });
    });

    it('never says still failing before a result newer than the request arrives, then reports partly fixed', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(3000);
      h.engine.setState(1, 'firewall', 'pass', h.clock.now());
      expect((await status(t)).state).to.equal('checking');
      h.engine.setState(1, 'os_version', 'fail', h.clock.now(), 'Your macOS is 12.1; we need 14.4 or later.');
      const s = await status(t);
      expect(s).to.include({ state: 'partly_fixed', h1: '1 thing left to fix' });
      expect(s.status_text).to.equal('Fixed: Firewall is on. Still needs fixing: macOS is up to date.');
    });

    it('reports still failing when new results show the same failures', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(3000);
      h.engine.setState(1, 'firewall', 'fail', h.clock.now());
      h.engine.setState(1, 'os_version', 'fail', h.clock.now());
      expect(await status(t)).to.include({ state: 'still_failing', h1: '2 things still need fixing' });
    });

    it('says the laptop did not answer after 120 s without a result', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(119_000);
      expect((await status(t)).state).to.equal('checking');
      h.clock.advance(1000);
      const s = await status(t);
      expect(s).to.include({ state: 'no_answer', h1: "Your laptop didn't answer" });
      expect((await page(t)).text).to.contain('Try again');
    });

    it('answers 410 on the status endpoint once the link expired', async () => {
      const t = h.link({ expiresAt: START + 1000 });
      h.clock.advance(1000);
      expect((await fetch(`${h.url}/device/status?t=${encodeURIComponent(t)}`)).status).to.equal(410);
    });
  });

  describe('POST /device/break-glass (form)', () => {
    const submit = async (t: string, fields: Record<string, string>) => {
      const csrf = csrfOf((await page(t)).text);
      return postForm(`${h.url}/device/break-glass`, { t, csrf, ...fields });
    };

    it('grants access on an approval-none tier and redirects back to a page saying so', async () => {
      const t = h.link({ resource: 'wiki' });
      const res = await submit(t, { reason: 'Paging incident INC-123', duration: '1h', idempotency_key: 'abc' });
      expect(res.status).to.equal(303);
      const { text } = await page(t);
      expect(text).to.contain('Emergency access until 15:00 UTC');
      expect(text).to.contain('You can open wiki now (1 hour left).');
      expect(h.engine.verdict('C02XX', 'wiki', 'alice', h.clock.now())?.decision).to.equal('allow');
    });

    it('creates a pending request on an approval-required tier and shows waiting for approval', async () => {
      const t = h.link();
      expect((await submit(t, { reason: 'Paging incident INC-123', duration: '30m' })).status).to.equal(303);
      const { text } = await page(t);
      expect(text).to.contain('<h1 id="h1">Waiting for approval</h1>');
      expect(text).to.contain('Cancel request');
    });

    it('keeps the typed text and names the problem when the reason is too short (400)', async () => {
      const t = h.link({ resource: 'wiki' });
      const res = await submit(t, { reason: 'urgent', duration: '1h' });
      expect(res.status).to.equal(400);
      const text = await res.text();
      expect(text).to.contain('id="error-summary"');
      expect(text).to.contain('at least 10 characters');
      expect(text).to.contain('>urgent</textarea>');
      expect(text).to.contain('aria-invalid="true"');
    });

    it('offers no form when the link names no user (the gateway did not know who it was)', async () => {
      const { text } = await page(h.link({ resource: 'wiki', user: '' }));
      expect(text).to.contain('this link does not say who you are');
      expect(text).to.not.contain('id="bg-form"');
    });

    it('explains a never tier with a sentence instead of a form', async () => {
      const { text } = await page(h.link({ resource: 'vault' }));
      expect(text).to.contain('Emergency access is not available for vault');
      expect(text).to.not.contain('id="bg-form"');
    });

    it('shows the exact refusal when the per-user limit is reached (409)', async () => {
      const t = h.link({ resource: 'wiki' });
      for (let i = 0; i < 2; i += 1) await h.breakGlass.request({ serial: 'C02XX', user: 'alice', resource: 'docs', reason: 'Paging incident INC-1', durationMs: 1_800_000, requestedBy: 'alice' });
      const csrf = csrfOf((await page(t)).text);
      // The third use happens in another tab while this page is open.
      await h.breakGlass.request({ serial: 'C02XX', user: 'alice', resource: 'docs', reason: 'Paging incident INC-2', durationMs: 1_800_000, requestedBy: 'alice' });
      const res = await postForm(`${h.url}/device/break-glass`, { t, csrf, reason: 'Paging incident INC-3', duration: '30m' });
      expect(res.status).to.equal(409);
      const text = await res.text();
      expect(text).to.contain("We couldn't give you emergency access");
      expect(text).to.contain('3 of 3 used');
    });

    it('keeps the typed reason on the expiry page when the link expired while typing', async () => {
      const t = h.link({ expiresAt: START + MIN });
      const csrf = csrfOf((await page(t)).text);
      h.clock.advance(MIN);
      const res = await postForm(`${h.url}/device/break-glass`, { t, csrf, reason: 'Paging incident INC-77', duration: '30m' });
      expect(res.status).to.equal(410);
      expect(await res.text()).to.contain('Paging incident INC-77</textarea>');
    });

    it('shows who declined the last request and their comment, and offers the form again', async () => {
      const t = h.link();
      await submit(t, { reason: 'Paging incident INC-123', duration: '30m' });
      const [g] = await h.breakGlass.list();
      await h.breakGlass.deny(g?.id ?? '', 'secops', 'Use the read replica instead');
      const { text } = await page(t);
      expect(text).to.contain('Your last request was declined by secops.');
      expect(text).to.contain('Their comment: “Use the read replica instead”');
      expect(text).to.contain('id="bg-form"');
      expect(text).to.contain('<details id="bg-details" open>');
    });

    it('lets the person cancel a pending request', async () => {
      const t = h.link();
      await submit(t, { reason: 'Paging incident INC-123', duration: '30m' });
      const [g] = await h.breakGlass.list();
      const csrf = csrfOf((await page(t)).text);
      const res = await postForm(`${h.url}/device/break-glass/cancel`, { t, csrf, id: g?.id ?? '' });
      expect(res.status).to.equal(303);
      expect((await h.breakGlass.get(g?.id ?? ''))?.status).to.equal('revoked');
    });
  });

  describe('GET /device/events (SSE)', () => {
    it('streams the current status at once and a new one when the verdict changes', async () => {
      await h.close();
      h = await startHarness({ live: true });
      h.engine.addHost(makeHost('C02XX', 1));
      h.engine.setState(1, 'firewall', 'fail', START - MIN);
      const t = h.link({ resource: 'wiki' });
      h.engine.setState(1, 'disk_encryption', 'pass', START - MIN);
      const ac = new AbortController();
      const res = await fetch(`${h.url}/device/events?t=${encodeURIComponent(t)}`, { signal: ac.signal });
      expect(res.headers.get('content-type')).to.contain('text/event-stream');
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');
      const events: Array<Record<string, unknown>> = [];
      let buf = '';
      const next = async (): Promise<Record<string, unknown>> => {
        for (;;) {
          const m = /event: status\ndata: (.*)\n\n/.exec(buf);
          if (m?.[1]) {
            buf = buf.slice((m.index ?? 0) + m[0].length);
            const e = JSON.parse(m[1]) as Record<string, unknown>;
            events.push(e);
            return e;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('stream ended');
          buf += Buffer.from(value).toString('utf8');
        }
      };
      expect(await next()).to.include({ state: 'deny' });
      h.engine.setState(1, 'firewall', 'pass', h.clock.now());
      expect(await next()).to.include({ state: 'restored', decision: 'allow' });
      ac.abort();
    });

    it('caps live channels per link (the page falls back to polling) and frees a slot when one closes', async () => {
      h.engine.setState(1, 'firewall', 'fail', START - MIN);
      const t = h.link();
      const open: AbortController[] = [];
      for (let i = 0; i < 4; i += 1) {
        const ac = new AbortController();
        const res = await fetch(`${h.url}/device/events?t=${encodeURIComponent(t)}`, { signal: ac.signal });
        expect(res.status).to.equal(200);
        open.push(ac);
      }
      const fifth = await fetch(`${h.url}/device/events?t=${encodeURIComponent(t)}`);
      expect(fifth.status).to.equal(503);
      open[0]?.abort();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i += 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const ac = new AbortController();
        const res = await fetch(`${h.url}/device/events?t=${encodeURIComponent(t)}`, { signal: ac.signal });
        status = res.status;
        ac.abort();
      }
      expect(status).to.equal(200);
      for (const ac of open) ac.abort();
    });
  });
});

describe('/api/v1/break-glass', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.engine.addHost(makeHost('C02XX', 1));
  });
  afterEach(async () => h.close());

  const api = (path: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${h.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  const body = { serial: 'C02XX', user: 'alice', resource: 'wiki', reason: 'Paging incident INC-9', duration: '2h' };

  it('creates an active grant with a page token in the body (201)', async () => {
    const res = await api('/api/v1/break-glass', { method: 'POST', body: { ...body, token: h.link({ resource: 'wiki' }) } });
    expect(res.status).to.equal(201);
    const g = await res.json() as Record<string, unknown>;
    expect(g).to.include({ status: 'active', user: 'alice', resource: 'wiki', duration: '2h', requested_by: 'alice', expires_at: new Date(START + 7_200_000).toISOString() });
    expect(g.id).to.be.a('string');
  });

  it('accepts the page token in the X-Trustgate-Link header and fills the subject from it', async () => {
    const res = await api('/api/v1/break-glass', { method: 'POST', body: { reason: 'Paging incident INC-9', duration: '30m' }, headers: { 'x-trustgate-link': h.link() } });
    expect(res.status).to.equal(201);
    expect(await res.json()).to.include({ status: 'pending', resource: 'prod-db' });
  });

  it('refuses a token whose subject does not match the body (403) and a forged token (401)', async () => {
    expect((await api('/api/v1/break-glass', { method: 'POST', body: { ...body, user: 'bob', token: h.link({ resource: 'wiki' }) } })).status).to.equal(403);
    expect((await api('/api/v1/break-glass', { method: 'POST', body: { ...body, token: 'v1.abc.def' } })).status).to.equal(401);
  });

  it('lets an admin request for a user, requires the subject, and refuses other roles', async () => {
    const res = await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    expect(res.status).to.equal(201);
    expect(await res.json()).to.include({ requested_by: 'admin-token', user: 'alice' });
    expect((await api('/api/v1/break-glass', { method: 'POST', body: { reason: body.reason, duration: '1h' }, token: 'admin' })).status).to.equal(400);
    expect((await api('/api/v1/break-glass', { method: 'POST', body, token: 'viewer' })).status).to.equal(403);
    expect((await api('/api/v1/break-glass', { method: 'POST', body })).status).to.equal(401);
  });

  it('refuses a never tier with 403 and the limit with 409, each with an error message', async () => {
    const never = await api('/api/v1/break-glass', { method: 'POST', body: { ...body, resource: 'vault' }, token: 'admin' });
    expect(never.status).to.equal(403);
    expect(((await never.json()) as { error: { message: string } }).error.message).to.contain('not available');
    for (let i = 0; i < 3; i += 1) expect((await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' })).status).to.equal(201);
    const limit = await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    expect(limit.status).to.equal(409);
    expect(((await limit.json()) as { error: { code: string } }).error.code).to.equal('conflict');
  });

  it('rejects bodies that fail validation (unknown keys, bad duration) with 400', async () => {
    expect((await api('/api/v1/break-glass', { method: 'POST', body: { ...body, extra: 1 }, token: 'admin' })).status).to.equal(400);
    expect((await api('/api/v1/break-glass', { method: 'POST', body: { ...body, duration: '2 hours' }, token: 'admin' })).status).to.equal(400);
  });

  it('approves, revokes and reviews through the admin endpoints; viewers may list but not mutate', async () => {
    const created = await (await api('/api/v1/break-glass', { method: 'POST', body: { ...body, resource: 'prod-db' }, token: 'admin' })).json() as { id: string };
    expect((await api(`/api/v1/break-glass/${created.id}/approve`, { method: 'POST', body: {}, token: 'viewer' })).status).to.equal(403);
    const approved = await api(`/api/v1/break-glass/${created.id}/approve`, { method: 'POST', body: { comment: 'ok' }, token: 'admin' });
    expect(approved.status).to.equal(200);
    expect(await approved.json()).to.include({ status: 'active', approved_by: 'admin-token' });
    expect(h.engine.verdict('C02XX', 'prod-db', 'alice', h.clock.now())?.break_glass).to.include({ id: created.id });
    expect(await (await api(`/api/v1/break-glass/${created.id}/revoke`, { method: 'POST', token: 'admin' })).json()).to.include({ status: 'revoked' });
    expect(await (await api(`/api/v1/break-glass/${created.id}/review`, { method: 'POST', body: { comment: 'fine' }, token: 'admin' })).json()).to.include({ reviewed_by: 'admin-token' });
    expect((await api(`/api/v1/break-glass/${created.id}/review`, { method: 'POST', token: 'admin' })).status).to.equal(409);
    const list = await (await api('/api/v1/break-glass?status=revoked', { token: 'viewer' })).json() as { grants: Array<{ id: string }> };
    expect(list.grants.map((g) => g.id)).to.deep.equal([created.id]);
    expect((await api('/api/v1/break-glass/nope/approve', { method: 'POST', token: 'admin' })).status).to.equal(404);
  });

  it('declines a pending request only with a comment', async () => {
    const created = await (await api('/api/v1/break-glass', { method: 'POST', body: { ...body, resource: 'prod-db' }, token: 'admin' })).json() as { id: string };
    expect((await api(`/api/v1/break-glass/${created.id}/deny`, { method: 'POST', token: 'admin' })).status).to.equal(400);
    const res = await api(`/api/v1/break-glass/${created.id}/deny`, { method: 'POST', body: { comment: 'use the runbook' }, token: 'admin' });
    expect(await res.json()).to.include({ status: 'denied', revoked_by: 'admin-token' });
  });

  it('lists frequent users with ?frequent=1', async () => {
    await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    await api('/api/v1/break-glass', { method: 'POST', body, token: 'admin' });
    const res = await api('/api/v1/break-glass?frequent=1', { token: 'viewer' });
    const out = await res.json() as { frequent: Array<Record<string, unknown>> };
    expect(out.frequent).to.have.length(1);
    expect(out.frequent[0]).to.include({ user: 'alice', count: 2, limit: 3, window: '30d', at_limit: false });
  });
});

describe('/api/v1/audit', () => {
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => h.close());

  it('filters entries by type, actor, serial and time, and verifies the chain', async () => {
    await h.audit.record({ type: 'admin.token.created', actor: 'root', data: { name: 'ci' } });
    h.clock.advance(MIN);
    await h.audit.record({ type: 'break_glass.requested', actor: 'alice', serial: 'C02XX', data: {} });
    h.clock.advance(MIN);
    await h.audit.record({ type: 'break_glass.approved', actor: 'root', serial: 'C02XX', data: {} });
    const get = async (q: string) => (await (await fetch(`${h.url}/api/v1/audit${q}`, { headers: { authorization: 'Bearer viewer' } })).json()) as { entries: Array<Record<string, unknown>> };
    expect((await get('?actor=root')).entries.map((e) => e.seq)).to.deep.equal([1, 3]);
    expect((await get('?serial=C02XX&type=break_glass.approved')).entries.map((e) => e.seq)).to.deep.equal([3]);
    expect((await get(`?since=${new Date(START + MIN).toISOString()}&until=${START + MIN}`)).entries.map((e) => e.seq)).to.deep.equal([2]);
    const first = (await get('?limit=1')).entries[0];
    expect(first).to.include({ seq: 1, at: new Date(START).toISOString(), type: 'admin.token.created', actor: 'root' });
    expect(first?.prev_hash).to.equal('0'.repeat(64));
    const verify = await (await fetch(`${h.url}/api/v1/audit/verify`, { headers: { authorization: 'Bearer admin' } })).json();
    expect(verify).to.deep.include({ ok: true, count: 3 });
    expect((verify as { head: { seq: number } }).head.seq).to.equal(3);
  });

  it('rejects bad filters with 400 and gateway tokens with 403', async () => {
    expect((await fetch(`${h.url}/api/v1/audit?limit=0`, { headers: { authorization: 'Bearer admin' } })).status).to.equal(400);
    expect((await fetch(`${h.url}/api/v1/audit?since=yesterday`, { headers: { authorization: 'Bearer admin' } })).status).to.equal(400);
    expect((await fetch(`${h.url}/api/v1/audit?bogus=1`, { headers: { authorization: 'Bearer admin' } })).status).to.equal(400);
    expect((await fetch(`${h.url}/api/v1/audit`, { headers: { authorization: 'Bearer gateway' } })).status).to.equal(403);
  });
});
