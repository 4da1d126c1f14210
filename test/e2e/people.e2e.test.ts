/**
 * The remediation page in a real browser (Debian's Chromium via playwright-core) against the real server:
 * a deny links to the page, the person sees the failing check, clicks Recheck while a simulated agent
 * fixes the device, and watches the page turn green; break glass grants access; an expired link shows
 * the expiry page. Screenshots go to test/output/ (git-ignored).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signDeviceLink } from '../../server/people/link.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { csrfOf, makeHost, postForm, START, startHarness, type Harness } from '../people/support.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKS = path.join(HERE, '..', 'fixtures', 'people', 'packs');
const OUT = path.join(HERE, '..', 'output');
const OSQ = '/api/v1/osquery';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

type Rows = Array<Record<string, string>>;

/** A minimal osquery agent over the real TLS API: enroll, scheduled snapshots, distributed answers. */
class Agent {
  nodeKey = '';
  answered: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** What the device currently reports per query (by SQL fragment). */
  state = { firewall: '0', encrypted: '1' };
  constructor(
    private ts: TestServer,
    readonly serial: string,
  ) {}

  private post(p: string, body: Record<string, unknown>) {
    return this.ts.client.request(`${OSQ}${p}`, { body: { ...body, node_key: this.nodeKey } });
  }

  async enroll(): Promise<void> {
    const r = await this.ts.client.request(`${OSQ}/enroll`, {
      body: {
        enroll_secret: this.ts.enrollSecret,
        host_identifier: this.serial,
        host_details: {
          os_version: { name: 'macOS', platform: 'darwin', version: '14.5', major: '14', minor: '5' },
          osquery_info: { version: '5.12.1', config_valid: '1' },
          system_info: {
            hardware_serial: this.serial,
            uuid: `UUID-${this.serial}`,
            hostname: 'alice-mbp',
            hardware_vendor: 'Apple Inc.',
            hardware_model: 'MacBook Pro',
          },
          platform_info: { vendor: 'Apple Inc.' },
        },
      },
    });
    const key = (r.json as { node_key?: string } | undefined)?.node_key;
    if (!key) throw new Error(`enroll failed: ${r.status} ${r.text}`);
    this.nodeKey = key;
  }

  private rowsFor(sql: string): Rows {
    if (sql.includes('alf')) return [{ global_state: this.state.firewall }];
    if (sql.includes('disk_encryption')) return [{ encrypted: this.state.encrypted }];
    return [];
  }

  /** A scheduled snapshot of both checks, as osqueryd sends them on /log. */
  async report(): Promise<void> {
    const unixTime = Math.floor(Date.now() / 1000);
    const line = (q: string, rows: Rows) => ({
      name: `pack/people/${q}`,
      hostIdentifier: this.serial,
      calendarTime: new Date().toUTCString(),
      unixTime,
      epoch: 0,
      counter: 0,
      numerics: false,
      action: 'snapshot',
      snapshot: rows,
    });
    const r = await this.post('/log', {
      log_type: 'result',
      data: [line('e2e_firewall', this.rowsFor('alf')), line('e2e_filevault', this.rowsFor('disk_encryption'))],
    });
    if (r.status !== 200) throw new Error(`log failed: ${r.status} ${r.text}`);
  }

  /** Polls /distributed/read like osqueryd with accelerate, answering queued rechecks with current rows. */
  start(everyMs = 250): void {
    const tick = async () => {
      const r = await this.post('/distributed/read', {});
      const queries = (r.json as { queries?: Record<string, string> } | undefined)?.queries ?? {};
      const ids = Object.keys(queries);
      if (ids.length > 0) {
        const answers: Record<string, Rows> = {};
        const statuses: Record<string, number> = {};
        for (const id of ids) {
          answers[id] = this.rowsFor(queries[id] ?? '');
          statuses[id] = 0;
        }
        await this.post('/distributed/write', { queries: answers, statuses, messages: {} });
        this.answered.push(...ids);
      }
    };
    const loop = () => {
      this.timer = setTimeout(() => {
        void tick()
          .catch(() => undefined)
          .finally(() => {
            if (this.timer) loop();
          });
      }, everyMs);
    };
    loop();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

describe('remediation page in Chromium (people e2e)', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let agent: Agent;

  before(async function () {
    if (!fs.existsSync('/usr/bin/chromium')) throw new Error('Chromium is required: apt-get install -y chromium');
    fs.mkdirSync(OUT, { recursive: true });
    ts = await startTestServer({ packsDir: PACKS });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    agent = new Agent(ts, 'E2E-C02TEST');
    await agent.enroll();
  });

  after(async () => {
    agent?.stop();
    await context?.close();
    await browser?.close();
    await ts?.stop();
  });

  async function verdict(resource: string): Promise<Record<string, unknown>> {
    const q = new URLSearchParams({ serial: agent.serial, resource, user: 'alice@example.com' });
    const r = await ts.client.request(`/api/v1/verdict?${q}`, { token: ts.gatewayToken });
    expect(r.status).to.equal(200);
    return r.json as Record<string, unknown>;
  }

  async function openPage(url: string, width = 1280): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    expect(errors).to.deep.equal([]);
    return page;
  }

  it('opens the link from a deny and shows the failing check with its message and doc link', async () => {
    await agent.report();
    const v = await verdict('prod-db');
    expect(v.decision).to.equal('deny');
    const url = String(v.remediation_page);
    expect(url).to.match(/\/device\?t=/);
    for (const width of [360, 1280]) {
      const page = await openPage(url, width);
      expect(await page.textContent('h1')).to.equal('Fix 1 thing to open Production database');
      expect(await page.title()).to.equal('1 fix needed · Production database · Trustgate');
      const item = page.locator('#check-e2e_firewall');
      expect(await item.locator('h3').textContent()).to.equal('Firewall is off');
      expect(await item.locator('.badge').textContent()).to.contain('Needs fixing');
      expect(await item.textContent()).to.contain('Your firewall is off. Turn it on:');
      expect(await item.locator('.doc a').getAttribute('href')).to.contain('support.apple.com');
      expect(await page.textContent('#last-report')).to.match(/^Last report from your laptop: (just now|\d+ s ago)/);
      // One column, no horizontal scroll at phone width.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).to.be.at.most(0);
      await page.screenshot({ path: path.join(OUT, `people-deny-${width}.png`), fullPage: true });
      await page.close();
    }
  });

  it('turns green without a reload after Recheck while the agent fixes the device', async () => {
    const v = await verdict('prod-db');
    const page = await openPage(String(v.remediation_page));
    agent.state.firewall = '1'; // the person turned the firewall on; the next answer reports it
    agent.start();
    const t0 = Date.now();
    await page.click('#recheck-btn');
    await page.waitForSelector('#live:has-text("Checking your laptop")', { timeout: 5000 });
    await page.screenshot({ path: path.join(OUT, 'people-recheck-checking.png'), fullPage: true });
    await page.waitForSelector('h1:has-text("You\'re all set")', { timeout: 30_000 });
    const fixToAccessMs = Date.now() - t0;
    expect(await page.textContent('#live')).to.equal("You're good — access restored.");
    expect(await page.title()).to.equal('Access restored · Production database · Trustgate');
    expect(agent.answered.some((id) => id.includes('e2e_firewall'))).to.equal(true);
    expect((await verdict('prod-db')).decision).to.equal('allow');
    expect(fixToAccessMs).to.be.below(30_000);
    await page.screenshot({ path: path.join(OUT, 'people-recheck-restored.png'), fullPage: true });
    await page.close();
    agent.stop();
  });

  it('grants emergency access from the form and the verdict then allows with break_glass', async () => {
    agent.state.firewall = '0';
    await agent.report();
    const v = await verdict('grafana');
    expect(v.decision).to.equal('deny');
    const page = await openPage(String(v.remediation_page));
    await page.click('summary:has-text("Emergency access")');
    await page.fill('#bg-reason', 'Paging incident INC-4242, need the dashboards');
    await page.check('input[name="duration"][value="1h"]');
    expect(await page.textContent('#bg-submit')).to.equal('Get 1 hour of access');
    await page.screenshot({ path: path.join(OUT, 'people-break-glass-form.png'), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click('#bg-submit')]);
    expect(await page.textContent('h1')).to.match(/^Emergency access until \d\d:\d\d UTC$/);
    expect(await page.textContent('main')).to.contain('You can open Dashboards now');
    await page.screenshot({ path: path.join(OUT, 'people-break-glass-granted.png'), fullPage: true });
    const after = await verdict('grafana');
    expect(after.decision).to.equal('allow');
    expect(after.break_glass).to.include({ reason: 'Paging incident INC-4242, need the dashboards' });
    const audit = await ts.client.request('/api/v1/audit?type=break_glass.requested', { token: ts.adminToken });
    expect((audit.json as { entries: unknown[] }).entries).to.have.length(1);
    await page.close();
  });

  it('updates a pending request by itself when an admin approves it', async () => {
    const v = await verdict('prod-db');
    expect(v.decision).to.equal('deny');
    const page = await openPage(String(v.remediation_page));
    await page.click('summary:has-text("Emergency access")');
    await page.fill('#bg-reason', 'Database failover during INC-4243');
    expect(await page.textContent('#bg-submit')).to.equal('Request 30 minutes of access');
    await Promise.all([page.waitForNavigation(), page.click('#bg-submit')]);
    expect(await page.textContent('h1')).to.equal('Waiting for approval');
    await page.screenshot({ path: path.join(OUT, 'people-break-glass-pending.png'), fullPage: true });
    const list = await ts.client.request('/api/v1/break-glass?status=pending', { token: ts.adminToken });
    const pending = (list.json as { grants: Array<{ id: string; user: string }> }).grants;
    expect(pending.map((g) => g.user)).to.deep.equal(['alice@example.com']);
    const ok = await ts.client.request(`/api/v1/break-glass/${pending[0]?.id ?? ''}/approve`, {
      body: { comment: 'approved for INC-4243' },
      token: ts.adminToken,
    });
    expect(ok.status).to.equal(200);
    await page.waitForSelector('h1:has-text("Emergency access until")', { timeout: 15_000 });
    expect(await page.textContent('#live')).to.equal('Emergency access is on.');
    expect((await verdict('prod-db')).decision).to.equal('allow');
    await page.close();
  });

  it('can be used with the keyboard alone, in the order of the page', async () => {
    agent.state.firewall = '0';
    await agent.report();
    // alice holds emergency access from the tests above; bob's link shows the plain deny.
    const key = fs.readFileSync(path.join(ts.dataDir, 'link.key'), 'utf8').trim();
    const token = signDeviceLink(
      { serial: agent.serial, user: 'bob@example.com', resource: 'prod-db' },
      key,
      Date.now() + 600_000,
    );
    const page = await openPage(`${ts.url}/device?t=${encodeURIComponent(token)}`);
    expect(await page.getAttribute('#live', 'role')).to.equal('status');
    const order: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate(() => {
          const a = document.activeElement;
          if (!a) return '';
          return (
            a.id ||
            (a.tagName === 'SUMMARY'
              ? `summary:${a.textContent?.trim().slice(0, 20) ?? ''}`
              : `${a.tagName.toLowerCase()}:${a.textContent?.trim().slice(0, 20) ?? ''}`)
          );
        }),
      );
    }
    const at = (s: string) => order.findIndex((o) => o.includes(s));
    expect(at('a:Skip to content')).to.equal(0);
    expect(at('a:Step-by-step guide')).to.be.greaterThan(0);
    expect(at('recheck-btn')).to.be.greaterThan(at('a:Step-by-step guide'));
    expect(at('summary:1 check passed')).to.be.greaterThan(at('recheck-btn'));
    expect(at('summary:Emergency access')).to.be.greaterThan(at('summary:1 check passed'));
    // The focused button shows a visible focus ring.
    await page.focus('#recheck-btn');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineWidth);
    expect(parseFloat(outline)).to.be.at.least(2);
    await page.close();
  });

  it('shows the expiry page for an expired link, with no device data', async () => {
    const key = fs.readFileSync(path.join(ts.dataDir, 'link.key'), 'utf8').trim();
    const token = signDeviceLink(
      { serial: agent.serial, user: 'alice@example.com', resource: 'prod-db' },
      key,
      Date.now() - 60_000,
    );
    const page = await context.newPage();
    const res = await page.goto(`${ts.url}/device?t=${encodeURIComponent(token)}`);
    expect(res?.status()).to.equal(410);
    expect(await page.textContent('h1')).to.equal('This link has expired');
    expect(await page.textContent('main')).to.not.contain('Firewall');
    expect(await page.getAttribute('a.btn', 'href')).to.equal('https://db.internal.example.com/');
    await page.screenshot({ path: path.join(OUT, 'people-link-expired.png'), fullPage: true });
    await page.close();
  });

  it('shows a clear page for a forged link', async () => {
    const page = await context.newPage();
    const claims = Buffer.from('{"s":"E2E-C02TEST","u":"alice","r":"prod-db","e":9999999999999}');
    const res = await page.goto(`${ts.url}/device?t=v1.${claims.toString('base64url')}.forged`);
    expect(res?.status()).to.equal(403);
    expect(await page.textContent('h1')).to.equal("This link doesn't work");
    expect(await page.textContent('body')).to.not.contain('E2E-C02TEST');
    await page.close();
  });
});

/**
 * Every state of UX §2.2 rendered by the real page code over the real posture engine, at phone and laptop
 * width: screenshots for review, plus the layout rules that hold in every state (one H1, a live region,
 * no horizontal scroll at 360 px, 44 px buttons).
 */
describe('remediation page states at 360 and 1280 px (people e2e)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let h: Harness;
  const MIN = 60_000;

  before(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => browser?.close());
  beforeEach(async () => {
    h = await startHarness();
    await h.addHost(makeHost('C02XX'));
    await h.setState(1, 'disk_encryption', 'pass', START - MIN);
    await h.setState(
      1,
      'firewall',
      'fail',
      START - 2 * MIN,
      'Turn on the firewall:\n1. Open System Settings\n2. Go to Network, then Firewall\n3. Switch it on',
    );
    await h.setState(1, 'os_version', 'fail', START - 3 * 86_400_000, 'Your macOS is 12.1; we need 14.4 or later.');
  });
  afterEach(async () => h.close());

  const recheck = async (t: string) => {
    const page = await (await fetch(`${h.url}/device?t=${encodeURIComponent(t)}`)).text();
    await postForm(`${h.url}/device/recheck`, { t, csrf: csrfOf(page) });
  };
  const passAll = async () => {
    for (const id of ['disk_encryption', 'firewall', 'os_version']) await h.setState(1, id, 'pass', h.clock.now());
  };

  const STATES: Array<[string, () => Promise<string>]> = [
    ['denied', async () => h.link()],
    [
      'checking',
      async () => {
        const t = h.link();
        await recheck(t);
        return t;
      },
    ],
    [
      'partly-fixed',
      async () => {
        const t = h.link();
        await recheck(t);
        h.clock.advance(5000);
        await h.setState(1, 'firewall', 'pass', h.clock.now());
        await h.setState(1, 'os_version', 'fail', h.clock.now());
        return t;
      },
    ],
    [
      'still-failing',
      async () => {
        const t = h.link();
        await recheck(t);
        h.clock.advance(5000);
        await h.setState(1, 'firewall', 'fail', h.clock.now());
        await h.setState(1, 'os_version', 'fail', h.clock.now());
        return t;
      },
    ],
    [
      'no-answer',
      async () => {
        const t = h.link();
        await recheck(t);
        h.clock.advance(121_000);
        return t;
      },
    ],
    [
      'restored',
      async () => {
        await passAll();
        return h.link();
      },
    ],
    [
      'stale',
      async () => {
        await passAll();
        h.clock.advance(20 * MIN);
        return h.link();
      },
    ],
    [
      'couldnt-check',
      async () => {
        await passAll();
        await h.setState(1, 'firewall', 'error', h.clock.now());
        return h.link();
      },
    ],
    [
      'heads-up',
      async () => {
        await h.setState(1, 'osquery_healthy', 'fail', h.clock.now());
        return h.link({ resource: 'docs' });
      },
    ],
    [
      'granted',
      async () => {
        await h.breakGlass.request({
          serial: 'C02XX',
          user: 'alice@example.com',
          resource: 'wiki',
          reason: 'Paging incident INC-1',
          durationMs: 3_600_000,
          requestedBy: 'alice@example.com',
        });
        return h.link({ resource: 'wiki' });
      },
    ],
    [
      'pending',
      async () => {
        await h.breakGlass.request({
          serial: 'C02XX',
          user: 'alice@example.com',
          resource: 'prod-db',
          reason: 'Paging incident INC-1',
          durationMs: 3_600_000,
          requestedBy: 'alice@example.com',
        });
        return h.link();
      },
    ],
    ['never-tier', async () => h.link({ resource: 'vault' })],
    ['unknown-device', async () => h.link({ serial: 'ZZ-UNKNOWN' })],
    ['link-expired', async () => h.link({ expiresAt: START - MIN })],
    ['link-invalid', async () => 'v1.bm9wZQ.bm9wZQ'],
  ];

  for (const [name, setup] of STATES) {
    it(`renders the ${name} state in one column with a live region and large targets`, async () => {
      const t = await setup();
      for (const width of [360, 1280]) {
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        await page.goto(`${h.url}/device?t=${encodeURIComponent(t)}`);
        if (name !== 'link-expired' && name !== 'link-invalid') {
          const summary = page.locator('summary:has-text("Emergency access")');
          if ((await summary.count()) > 0) await summary.click();
          expect(await page.getAttribute('#live', 'role')).to.equal('status');
        }
        expect(await page.locator('h1').count()).to.equal(1);
        const a11y = await page.evaluate(() => {
          const problems: string[] = [];
          if (!document.documentElement.lang) problems.push('no lang');
          for (const tag of ['header', 'main', 'footer'])
            if (!document.querySelector(tag)) problems.push(`no <${tag}>`);
          for (const el of Array.from(document.querySelectorAll('input, textarea, select'))) {
            const input = el as HTMLInputElement;
            if (input.type === 'hidden') continue;
            const labelled =
              (input.labels?.length ?? 0) > 0 ||
              input.getAttribute('aria-label') ||
              input.getAttribute('aria-labelledby');
            if (!labelled) problems.push(`unlabelled ${input.name || input.id}`);
          }
          for (const a of Array.from(document.querySelectorAll('a, button'))) {
            if (!(a.textContent ?? '').trim() && !a.getAttribute('aria-label')) problems.push(`nameless ${a.tagName}`);
          }
          const ids = Array.from(document.querySelectorAll('[id]')).map((e) => e.id);
          const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
          if (dup.length > 0) problems.push(`duplicate ids ${dup.join(',')}`);
          return problems;
        });
        expect(a11y, 'accessibility basics').to.deep.equal([]);
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(overflow, 'horizontal scroll').to.be.at.most(0);
        const small = await page.evaluate(
          () =>
            Array.from(document.querySelectorAll('.btn')).filter(
              (b) => (b as HTMLElement).offsetParent !== null && b.getBoundingClientRect().height < 44,
            ).length,
        );
        expect(small, 'buttons under 44 px').to.equal(0);
        await page.screenshot({ path: path.join(OUT, `people-state-${name}-${width}.png`), fullPage: true });
        // the same state in dark mode (prefers-color-scheme: dark), saved beside it
        const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        await page.emulateMedia({ colorScheme: 'dark' });
        const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        expect(dark, 'the dark stylesheet applies').to.not.equal(light);
        await page.screenshot({ path: path.join(OUT, `people-state-${name}-${width}-dark.png`), fullPage: true });
        await page.close();
      }
    });
  }

  it('renders the form-error state with the summary focused and the typed text kept', async () => {
    const t = h.link({ resource: 'wiki' });
    const page = await browser.newPage({ viewport: { width: 360, height: 800 } });
    await page.goto(`${h.url}/device?t=${encodeURIComponent(t)}`);
    await page.click('summary:has-text("Emergency access")');
    await page.fill('#bg-reason', 'urgent');
    await Promise.all([page.waitForNavigation(), page.click('#bg-submit')]);
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('error-summary');
    expect(await page.inputValue('#bg-reason')).to.equal('urgent');
    await page.screenshot({ path: path.join(OUT, 'people-state-form-error-360.png'), fullPage: true });
    await page.close();
  });
});
