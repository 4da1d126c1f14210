/** createPostureEngine, the views of its state: failing or stale checks, a tier's report, the verdict bundle. */
import { expect } from 'chai';
import type { VerdictBundle } from '../../server/domain/verdict.js';
import { fixture, grant, mac, win } from './engine-fixture.js';
import { HOUR, host, MIN, T0 } from './support.js';

describe('createPostureEngine: views', () => {
  describe('failingOrStaleChecks', () => {
    it('lists applicable required checks that do not pass or are stale', () => {
      const f = fixture();
      f.report(mac, { firewall: [], bitlocker: [] });
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now())).to.deep.equal(['firewall']);
      f.clock.advance(16 * MIN);
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now())).to.deep.equal([
        'os_version',
        'disk_encryption',
        'firewall',
      ]);
      expect(f.engine.failingOrStaleChecks('C02MAC', f.clock.now(), 'medium')).to.deep.equal(['firewall']);
      expect(f.engine.failingOrStaleChecks('NOPE', f.clock.now())).to.deep.equal([]);
    });
  });

  describe('tierReport', () => {
    it('lists every check of the tier, failing first', () => {
      const f = fixture();
      f.report(mac, { os_version: [{ version: '12.1' }] });
      const rows = f.engine.tierReport('C02MAC', 'high', f.clock.now()) ?? [];
      expect(rows.map((r) => `${r.check}:${r.status}`)).to.deep.equal([
        'os_version:fail',
        'disk_encryption:pass',
        'firewall:pass',
        'bitlocker:not_applicable',
      ]);
      expect(rows[0]).to.deep.include({
        message: 'Your macOS is 12.1; we need 12.4 or later.',
        observed_at: T0,
        first_failed_at: T0,
        last_passed_at: null,
      });
      expect(rows[1]).to.deep.include({ observed_at: T0, first_failed_at: null, last_passed_at: T0 });
      expect(f.engine.tierReport('NOPE', 'high', T0)).to.equal(undefined);
    });
  });

  describe('bundle', () => {
    it('changes its ETag only when verdict inputs change', async () => {
      const f = fixture();
      f.report(mac);
      const a = await f.engine.bundleInChunks();
      expect((await f.engine.bundleInChunks()).etag).to.equal(a.etag);
      f.report(mac);
      f.engine.updateHost({ ...mac, lastSeenAt: T0 + 5 * MIN });
      expect((await f.engine.bundleInChunks()).etag).to.equal(a.etag);
      f.report(mac, { firewall: [] });
      const b = await f.engine.bundleInChunks();
      expect(b.etag).to.not.equal(a.etag);
      f.engine.addGrant(grant());
      const c = await f.engine.bundleInChunks();
      expect(c.etag).to.not.equal(b.etag);
      f.clock.advance(2 * HOUR);
      expect((await f.engine.bundleInChunks()).etag).to.equal(b.etag);
    });

    it('marks conflicting serials and rebuilds a device entry after it changes', async () => {
      const f = fixture();
      f.report(mac);
      f.report(win);
      const first = JSON.parse((await f.engine.bundleInChunks()).json) as VerdictBundle;
      expect(first.devices.map((d) => d.serial)).to.deep.equal(['C02MAC', 'WIN123']);
      f.report(host(3, 'C02MAC', { hardwareUuid: 'other', lastSeenAt: T0 + 1 }));
      f.engine.updateHost({ ...win, hostname: 'renamed' });
      const second = JSON.parse((await f.engine.bundleInChunks()).json) as VerdictBundle;
      expect(second.devices[0]).to.deep.equal({
        serial: 'C02MAC',
        hostname: 'host-3.local',
        platform: 'darwin',
        serial_conflict: true,
        tiers: {},
      });
      expect(second.devices[1]?.hostname).to.equal('renamed');
      f.engine.removeHost('C02MAC');
      const third = JSON.parse((await f.engine.bundleInChunks()).json) as VerdictBundle;
      expect(third.devices.map((d) => d.serial)).to.deep.equal(['WIN123']);
    });

    it('is identical for identical content built by another engine', async () => {
      const f1 = fixture();
      const f2 = fixture();
      f1.report(mac);
      f1.report(win);
      f2.report(win);
      f2.report(mac);
      expect(await f1.engine.bundleInChunks()).to.deep.equal(await f2.engine.bundleInChunks());
    });

    it('holds per-tier reasons and freshness for every device', async () => {
      const f = fixture();
      f.report(mac, { firewall: [] });
      const body = JSON.parse((await f.engine.bundleInChunks()).json) as VerdictBundle;
      expect(body.resources).to.deep.equal({
        'prod-db': { tier: 'high', mode: 'enforce' },
        staging: { tier: 'medium', mode: 'enforce' },
        wiki: { tier: 'low', mode: 'monitor' },
      });
      expect(body.tiers.high).to.deep.equal({
        max_age_seconds: 900,
        checks: ['disk_encryption', 'firewall', 'os_version', 'bitlocker'],
      });
      const dev = body.devices[0];
      expect(dev).to.deep.include({ serial: 'C02MAC', serial_conflict: false, platform: 'darwin' });
      expect(dev?.tiers.high).to.deep.equal({
        reasons: [{ check: 'firewall', status: 'fail' }],
        fresh_until: '2026-11-27T12:15:00.000Z',
      });
      expect(dev?.tiers.low).to.deep.equal({ reasons: [], fresh_until: '2026-11-28T12:00:00.000Z' });
      expect(body.checks.os_version).to.deep.equal({
        title: 'macOS is up to date',
        remediation_url: 'https://docs.example/os',
      });
      expect(body.break_glass).to.deep.equal([]);
    });
  });
});
