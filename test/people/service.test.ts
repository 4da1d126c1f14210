import { expect } from 'chai';
import { createPeopleService } from '../../server/people/service.js';
import { problemCounts, type TierReportRow } from '../../server/people/view.js';
import { headline } from '../../server/people/render.js';
import { renderContent } from '../../server/people/render-content.js';
import { makeHost, START, startHarness, type Harness } from './support.js';

describe('createPeopleService', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.addHost(makeHost('C02XX'));
  });
  afterEach(async () => h.close());
  const link = { serial: 'C02XX', user: 'alice@example.com', resource: 'prod-db', expiresAt: START + 1_800_000 };

  it("uses the engine's tier report if given: skips checks that don't apply, orders fail, stale, unknown", async () => {
    const rows: TierReportRow[] = [
      {
        check: 'disk_encryption',
        title: 'Disk encryption is on',
        status: 'pass',
        message: null,
        remediation_url: null,
        observed_at: START - 1000,
        first_failed_at: null,
      },
      {
        check: 'gatekeeper',
        title: 'Gatekeeper is on',
        status: 'not_applicable',
        message: null,
        remediation_url: null,
        observed_at: null,
        first_failed_at: null,
      },
      {
        check: 'os_version',
        title: 'macOS is up to date',
        status: 'missing',
        message: 'no data yet',
        remediation_url: null,
        observed_at: null,
        first_failed_at: null,
      },
      {
        check: 'screen_lock',
        title: 'Screen lock is on',
        status: 'stale',
        message: 'old',
        remediation_url: null,
        observed_at: START - 3_600_000,
        first_failed_at: null,
      },
      {
        check: 'firewall',
        title: 'Firewall is on',
        status: 'fail',
        message: 'Turn on the firewall.',
        remediation_url: 'https://example.com/fw',
        observed_at: START - 2000,
        first_failed_at: START - 86_400_000,
      },
    ];
    const calls: Array<[string, string]> = [];
    const svc = createPeopleService({
      ...h.deps,
      tierReport: (serial, tier) => {
        calls.push([serial, tier]);
        return rows;
      },
    });
    const v = await svc.view(link);
    expect(calls).to.deep.equal([['C02XX', 'high']]);
    expect(v.checks.map((c) => [c.id, c.status])).to.deep.equal([
      ['firewall', 'fail'],
      ['screen_lock', 'stale'],
      ['os_version', 'unknown'],
      ['disk_encryption', 'pass'],
    ]);
    expect(v.checks[0]).to.include({
      message: 'Turn on the firewall.',
      remediationUrl: 'https://example.com/fw',
      firstFailedAt: START - 86_400_000,
    });
    expect(v.lastReportAt).to.equal(START - 1000);
    // one thing to fix; the stale and the unknown check only need a fresh result from the laptop
    expect(problemCounts(v)).to.deep.equal({ fixes: 1, checks: 2 });
    expect(headline(v).h1).to.equal('Fix 1 thing to open Production database');
  });

  it('reports no problems and restored when everything passes and the verdict allows', async () => {
    for (const id of ['disk_encryption', 'firewall', 'os_version']) await h.setState(1, id, 'pass', START - 1000);
    const v = await createPeopleService(h.deps).view(link);
    expect(v.state).to.equal('restored');
    expect(v.checks.every((c) => c.status === 'pass')).to.equal(true);
  });

  it('restores the previous recheck slot when queueing fails, so the person can try again at once', async () => {
    await h.setState(1, 'firewall', 'fail', START - 1000);
    h.queue.fails = true;
    const svc = createPeopleService(h.deps);
    let failed = false;
    try {
      await svc.recheck(link);
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    h.queue.fails = false;
    expect((await svc.recheck(link)).requestedAt).to.equal(START);
  });

  it('reports each recheck outcome once, with the time from the click (fix → access)', async () => {
    await h.setState(1, 'firewall', 'fail', START - 1000);
    await h.setState(1, 'disk_encryption', 'pass', START - 1000);
    await h.setState(1, 'os_version', 'pass', START - 1000);
    const results: unknown[] = [];
    const svc = createPeopleService({ ...h.deps, onRecheckResult: (r) => results.push(r) });
    await svc.recheck(link);
    await svc.view(link);
    expect(results).to.deep.equal([]);
    h.clock.advance(7000);
    await h.setState(1, 'firewall', 'pass', h.clock.now());
    await svc.view(link);
    await svc.view(link);
    expect(results).to.deep.equal([{ serial: 'C02XX', resource: 'prod-db', outcome: 'restored', ms: 7000 }]);
  });

  it('changes the version only when something shown changes', async () => {
    await h.setState(1, 'firewall', 'fail', START - 1000);
    const svc = createPeopleService(h.deps);
    const a = (await svc.view(link)).version;
    h.clock.advance(1000);
    expect((await svc.view(link)).version).to.equal(a);
    await h.setState(1, 'firewall', 'pass', h.clock.now());
    expect((await svc.view(link)).version).to.not.equal(a);
  });

  it('shows no cool-down before anyone asked for a recheck, even when the page was timed before its view', async () => {
    await h.setState(1, 'firewall', 'fail', START - 1000);
    const svc = createPeopleService(h.deps);
    const opts = { token: 't', csrf: 'c', help: {}, formKey: 'k' };
    // the fragment route takes `now` before the view: the view's own now may be a few ms later
    const first = renderContent(await svc.view(link), opts, START - 400).checks.value;
    expect(first).to.contain('data-cooldown-until="0"');
    expect(first).to.not.contain('You can check again');
    await svc.recheck(link);
    const after = renderContent(await svc.view(link), opts, START).checks.value;
    expect(after).to.contain(`data-cooldown-until="${START + 15_000}"`);
  });
});
