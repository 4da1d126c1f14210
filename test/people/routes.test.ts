import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { csrfOf, makeHost, postForm, START, startHarness, type Harness } from './support.js';

const MIN = 60_000;
/** What the page's script sends: it asks for JSON only. */
const JSON_ONLY = { accept: 'application/json' };

describe('remediation page routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.addHost(makeHost('C02XX'));
    await h.setState(1, 'disk_encryption', 'pass', START - MIN);
    await h.setState(1, 'firewall', 'fail', START - 2 * MIN, 'Turn on the firewall.');
    await h.setState(1, 'os_version', 'fail', START - 2 * MIN, 'Your macOS is 12.1; we need 14.4 or later.');
  });
  afterEach(async () => h.close());

  const page = async (t: string, extra = '') => {
    const res = await fetch(`${h.url}/device?t=${encodeURIComponent(t)}${extra}`);
    return { res, text: await res.text() };
  };
  const status = async (t: string) =>
    (await fetch(`${h.url}/device/status?t=${encodeURIComponent(t)}`)).json() as Promise<Record<string, unknown>>;

  describe('GET /device', () => {
    it('shows every tier check, failing first with message and doc link, and when data was last received', async () => {
      const { res, text } = await page(h.link());
      expect(res.status).to.equal(200);
      expect(text).to.contain('<h1 id="h1">Fix 2 things to open Production database</h1>');
      expect(text).to.contain('<title>2 fixes needed · Production database · Trustgate</title>');
      // a failing check is titled by its failing state, a passing one by the state it checks for
      expect(text).to.contain('<h3>Firewall is off</h3>');
      expect(text).to.not.contain('<h3>Firewall is on</h3>');
      expect(text.indexOf('Firewall is off')).to.be.lessThan(text.indexOf('Disk encryption is on'));
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
      await h.setState(1, 'firewall', 'pass', START - 20 * MIN);
      await h.setState(1, 'os_version', 'pass', START - MIN);
      const { text } = await page(h.link());
      expect(text).to.contain('We need a fresh check of your laptop');
      expect(text).to.contain('Needs a fresh check');
    });

    it('shows a check that could not run as not the person’s fault', async () => {
      await h.setState(1, 'firewall', 'error', START - MIN);
      await h.setState(1, 'os_version', 'pass', START - MIN);
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
      for (const leak of ['C02XX', 'Firewall', 'alice@example.com', 'Production database'])
        expect(text).to.not.contain(leak);
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
      await h.setState(1, 'firewall', 'fail', START - MIN, 'Bad <img src=x onerror=alert(1)> [x](javascript:alert(1))');
      const { text } = await page(h.link({ user: '<b>eve</b>' }));
      expect(text).to.not.contain('<img src=x');
      expect(text).to.not.contain('<b>eve</b>');
      expect(text).to.not.contain('href="javascript:');
      expect(text).to.contain('&lt;img src=x');
    });

    it('shows access restored when the verdict allows', async () => {
      await h.setState(1, 'firewall', 'pass', START - MIN);
      await h.setState(1, 'os_version', 'pass', START - MIN);
      const { text } = await page(h.link());
      expect(text).to.contain("You're all set. You can open Production database again");
      expect(text).to.contain('Continue to Production database');
    });

    it('links the stylesheet and script by content-hashed names, served with a year-long immutable cache', async () => {
      const { text } = await page(h.link());
      const css = /<link rel="stylesheet" href="(\/device\/assets\/page\.[0-9a-f]{16}\.css)">/.exec(text)?.[1];
      const js = /<script src="(\/device\/assets\/page\.[0-9a-f]{16}\.js)" defer><\/script>/.exec(text)?.[1];
      expect(css).to.be.a('string');
      expect(js).to.be.a('string');
      const [cssRes, jsRes] = await Promise.all([fetch(`${h.url}${css ?? ''}`), fetch(`${h.url}${js ?? ''}`)]);
      for (const res of [cssRes, jsRes]) {
        expect(res.status).to.equal(200);
        expect(res.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
        expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      }
      expect(cssRes.headers.get('content-type')).to.contain('text/css');
      expect(jsRes.headers.get('content-type')).to.contain('javascript');
      const [cssText, jsText] = await Promise.all([cssRes.text(), jsRes.text()]);
      expect(cssText).to.contain('prefers-color-scheme');
      expect(jsText).to.contain('EventSource');
      // the name is the content's hash: a changed file is a new URL, never a stale cached one
      expect(css).to.contain(createHash('sha256').update(cssText).digest('hex').slice(0, 16));
      expect(js).to.contain(createHash('sha256').update(jsText).digest('hex').slice(0, 16));
    });

    it('answers 404 for an asset name that is not the current content', async () => {
      expect((await fetch(`${h.url}/device/assets/page.0000000000000000.js`)).status).to.equal(404);
      expect((await fetch(`${h.url}/device/assets/page.js`)).status).to.equal(404);
    });

    it('loads no inline script or style (the CSP allows only its own files)', async () => {
      const { res, text } = await page(h.link());
      const csp = res.headers.get('content-security-policy');
      expect(csp).to.contain("default-src 'none'").and.contain("style-src 'self'");
      expect(text).to.not.match(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(text).to.not.match(/<style|\sstyle="|\son[a-z]+="/);
    });
  });

  describe('recheck', () => {
    it('queues a recheck from a plain form post, redirects 303 and shows progress without JS', async () => {
      const t = h.link();
      const csrf = csrfOf((await page(t)).text);
      const res = await postForm(`${h.url}/device/recheck`, { t, csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal(`/device?t=${encodeURIComponent(t)}&m=recheck`);
      expect(h.queue.rechecks).to.deep.equal([{ serial: 'C02XX', actor: 'alice@example.com (remediation page)' }]);
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
      expect(await b.json()).to.deep.equal({
        error: { code: 'conflict', message: 'You can check again in 10 s.', retry_after_s: 10 },
      });
      h.clock.advance(10_000);
      expect((await postForm(`${h.url}/device/recheck`, { t, csrf }, { accept: 'application/json' })).status).to.equal(
        202,
      );
    });

    it('refuses a form post with a wrong CSRF token', async () => {
      const res = await postForm(`${h.url}/device/recheck`, { t: h.link(), csrf: 'x'.repeat(32) });
      expect(res.status).to.equal(403);
      expect(h.queue.rechecks).to.deep.equal([]);
    });

    it('goes waiting → restored when a newer passing result lands', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      expect((await status(t)).state).to.equal('checking');
      h.clock.advance(8000);
      await h.setState(1, 'firewall', 'pass', h.clock.now());
      await h.setState(1, 'os_version', 'pass', h.clock.now());
      const s = await status(t);
      expect(s).to.include({ state: 'restored', decision: 'allow', status_text: "You're good — access restored." });
    });

    it('never says still failing before a result newer than the request arrives; then says partly fixed', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(3000);
      await h.setState(1, 'firewall', 'pass', h.clock.now());
      expect((await status(t)).state).to.equal('checking');
      await h.setState(1, 'os_version', 'fail', h.clock.now(), 'Your macOS is 12.1; we need 14.4 or later.');
      const s = await status(t);
      expect(s).to.include({ state: 'partly_fixed', h1: '1 thing left to fix' });
      expect(s.status_text).to.equal('Fixed: Firewall is on. Still needs fixing: macOS needs an update.');
    });

    it('reports still failing when new results show the same failures', async () => {
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(3000);
      await h.setState(1, 'firewall', 'fail', h.clock.now());
      await h.setState(1, 'os_version', 'fail', h.clock.now());
      expect(await status(t)).to.include({ state: 'still_failing', h1: '2 things still need fixing' });
    });

    it('names the one check still failing by its failing state', async () => {
      await h.setState(1, 'os_version', 'pass', START - MIN);
      const t = h.link();
      await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf((await page(t)).text) });
      h.clock.advance(3000);
      await h.setState(1, 'firewall', 'fail', h.clock.now());
      expect(await status(t)).to.include({ state: 'still_failing', h1: 'Firewall is off: still needs fixing' });
    });

    it('counts fixes and fresh checks apart: one failing check among stale ones is one thing to fix', async () => {
      await h.setState(1, 'disk_encryption', 'pass', START - 20 * MIN);
      await h.setState(1, 'os_version', 'pass', START - 20 * MIN);
      const { text } = await page(h.link());
      expect(text).to.contain('<h1 id="h1">Fix 1 thing to open Production database</h1>');
      expect(text).to.contain('<title>1 fix needed · Production database · Trustgate</title>');
      expect(text.match(/Needs a fresh check/g)).to.have.length(2);
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
      const res = await fetch(`${h.url}/device/status?t=${encodeURIComponent(t)}`);
      expect(res.status).to.equal(410);
      expect(await res.json()).to.deep.equal({
        error: { code: 'expired', message: 'This link has expired. Open the app again to get a new one.' },
      });
    });

    it('answers the page’s script JSON for a bad link or form, and the page itself HTML with no data', async () => {
      const forged = `${h.link().slice(0, -4)}AAAA`;
      const json = await fetch(`${h.url}/device/status?t=${encodeURIComponent(forged)}`);
      expect(json.status).to.equal(403);
      expect(await json.json()).to.deep.equal({ error: { code: 'forbidden', message: "This link doesn't work." } });
      const missing = await postForm(`${h.url}/device/recheck`, { csrf: 'x' }, JSON_ONLY);
      expect(missing.status).to.equal(400);
      expect(await missing.json()).to.deep.equal({
        error: { code: 'invalid', message: 'This form is incomplete. Reload the page and try again.' },
      });
      const csrf = await postForm(`${h.url}/device/recheck`, { t: h.link(), csrf: 'x'.repeat(32) }, JSON_ONLY);
      expect(await csrf.json()).to.deep.equal({
        error: { code: 'forbidden', message: 'This form has expired. Reload the page and try again.' },
      });
      const page = await postForm(`${h.url}/device/recheck`, { csrf: 'x' });
      expect(page.status).to.equal(400);
      expect(page.headers.get('content-type')).to.contain('text/html');
      expect(page.headers.get('content-security-policy')).to.contain("script-src 'self'");
      expect(await page.text()).to.contain("This link doesn't work");
    });

    it("tells the script (503) or the plain page (303 back with a notice) when a recheck can't be queued", async () => {
      const t = h.link();
      const csrf = csrfOf((await page(t)).text);
      h.queue.fails = true;
      const json = await postForm(`${h.url}/device/recheck`, { t, csrf }, JSON_ONLY);
      expect(json.status).to.equal(503);
      const message = "We couldn't ask your laptop to check again just now. Try again in a moment.";
      expect(await json.json()).to.deep.equal({ error: { code: 'unavailable', message } });
      const plain = await postForm(`${h.url}/device/recheck`, { t, csrf });
      expect(plain.status).to.equal(303);
      expect(plain.headers.get('location')).to.equal(`/device?t=${encodeURIComponent(t)}&m=recheck_failed`);
      const notice = (await page(t, '&m=recheck_failed')).text;
      expect(notice).to.contain("We couldn't ask your laptop to check again just now.");
    });

    it('sends the plain page back with how long to wait when it rechecks inside the cool-down', async () => {
      const t = h.link();
      const csrf = csrfOf((await page(t)).text);
      expect((await postForm(`${h.url}/device/recheck`, { t, csrf })).status).to.equal(303);
      h.clock.advance(4000);
      const again = await postForm(`${h.url}/device/recheck`, { t, csrf });
      expect(again.status).to.equal(303);
      expect(again.headers.get('location')).to.equal(`/device?t=${encodeURIComponent(t)}&m=wait&w=11`);
      expect((await page(t, '&m=wait&w=11')).text).to.contain('You can check again in 11 s.');
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
      expect(h.verdict('C02XX', 'wiki', 'alice@example.com')?.decision).to.equal('allow');
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
      for (let i = 0; i < 2; i += 1)
        await h.breakGlass.request({
          serial: 'C02XX',
          user: 'alice@example.com',
          resource: 'docs',
          reason: 'Paging incident INC-1',
          durationMs: 1_800_000,
          requestedBy: 'alice@example.com',
        });
      const csrf = csrfOf((await page(t)).text);
      // The third use happens in another tab while this page is open.
      await h.breakGlass.request({
        serial: 'C02XX',
        user: 'alice@example.com',
        resource: 'docs',
        reason: 'Paging incident INC-2',
        durationMs: 1_800_000,
        requestedBy: 'alice@example.com',
      });
      const res = await postForm(`${h.url}/device/break-glass`, {
        t,
        csrf,
        reason: 'Paging incident INC-3',
        duration: '30m',
      });
      expect(res.status).to.equal(409);
      const text = await res.text();
      expect(text).to.contain("We couldn't give you emergency access");
      expect(text).to.contain('3 of 3 used');
    });

    it('keeps the typed reason on the expiry page when the link expired while typing', async () => {
      const t = h.link({ expiresAt: START + MIN });
      const csrf = csrfOf((await page(t)).text);
      h.clock.advance(MIN);
      const res = await postForm(`${h.url}/device/break-glass`, {
        t,
        csrf,
        reason: 'Paging incident INC-77',
        duration: '30m',
      });
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
      await h.addHost(makeHost('C02XX'));
      await h.setState(1, 'firewall', 'fail', START - MIN);
      const t = h.link({ resource: 'wiki' });
      await h.setState(1, 'disk_encryption', 'pass', START - MIN);
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
      await h.setState(1, 'firewall', 'pass', h.clock.now());
      expect(await next()).to.include({ state: 'restored', decision: 'allow' });
      ac.abort();
    });

    it('caps live channels per link (the page falls back to polling) and frees a slot when one closes', async () => {
      await h.setState(1, 'firewall', 'fail', START - MIN);
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
      expect(fifth.headers.get('retry-after')).to.equal('30');
      expect(await fifth.json()).to.deep.equal({
        error: { code: 'unavailable', message: 'Too many live connections; use /device/status.', retry_after_s: 30 },
      });
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
