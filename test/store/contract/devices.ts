/**
 * The device-identity contract: the inventory (import counts, upsert by serial, a UUID bound at first
 * enrollment kept, replace, dry run), enrollment rejections, device certificates and revocation, the
 * host writes of approval, certificate binding and bulk unenroll by enroll secret, and the version that
 * moves with each of them (the certificate index's cue to rebuild).
 */
import { expect } from 'chai';
import type { InventoryRow } from '../../../server/domain/ports.js';
import { batch, enrollHost, enrollRecord, issuedCert, snapshot, T0, useStore, type StoreFactory } from './support.js';

const row = (serial: string, over: Partial<InventoryRow> = {}): InventoryRow => ({
  serial,
  hardwareUuid: null,
  owners: [],
  assetTag: null,
  ...over,
});

const cert = (sha: string, deviceSerial: string) =>
  issuedCert(sha, deviceSerial, T0, {
    sha1: null,
    certSerial: `0${sha.toUpperCase()}`,
    notBefore: T0,
    notAfter: T0 + 1000,
    issuedAt: T0,
  });

function inventoryContract(t: ReturnType<typeof useStore>): void {
  describe('inventory (DeviceInventoryRepo)', () => {
    it('import() counts added, updated and unchanged rows; a dry run writes nothing', async () => {
      const inv = t.store.inventory;
      const rows = [row('A', { hardwareUuid: 'UUID-A', owners: ['a@x.io'] }), row('B')];
      expect(await inv.import(rows, { source: 'f.csv', at: T0, dryRun: true })).to.deep.equal({
        added: 2,
        updated: 0,
        unchanged: 0,
        removed: 0,
      });
      expect(await inv.count()).to.equal(0);
      expect(await inv.import(rows, { source: 'f.csv', at: T0 })).to.include({ added: 2 });
      const next = [row('A', { hardwareUuid: 'UUID-A', owners: ['a@x.io'] }), row('B', { assetTag: 'T-1' })];
      expect(await inv.import(next, { source: 'g.csv', at: T0 + 1 })).to.include({ unchanged: 1, updated: 1 });
      expect(await inv.get('A')).to.deep.equal({
        serial: 'A',
        hardwareUuid: 'uuid-a',
        owners: ['a@x.io'],
        assetTag: null,
        source: 'f.csv',
        importedAt: T0,
        updatedAt: T0,
      });
      expect(await inv.get('B')).to.include({ assetTag: 'T-1', source: 'g.csv', updatedAt: T0 + 1 });
    });

    it('keeps a hardware UUID bound at first enrollment when a row has none; replace removes the rest', async () => {
      const inv = t.store.inventory;
      await inv.import([row('A'), row('B')], { source: 'f', at: T0 });
      await inv.bindHardwareUuid('A', 'FIRST-UUID', T0 + 1);
      await inv.bindHardwareUuid('A', 'SECOND-UUID', T0 + 2);
      expect((await inv.get('A'))?.hardwareUuid).to.equal('first-uuid');
      const out = await inv.import([row('A', { owners: ['x@y.io'] })], { source: 'f', at: T0 + 3, replace: true });
      expect(out).to.deep.equal({ added: 0, updated: 1, unchanged: 0, removed: 1 });
      expect((await inv.get('A'))?.hardwareUuid).to.equal('first-uuid');
      expect(await inv.get('B')).to.equal(undefined);
      expect((await inv.list({ search: 'x@y' })).map((d) => d.serial)).to.deep.equal(['A']);
    });

    it('approve() adds a device or sets its hardware UUID; remove() deletes it', async () => {
      const inv = t.store.inventory;
      await inv.approve('NEW', 'U-NEW', T0);
      expect(await inv.get('NEW')).to.include({ hardwareUuid: 'u-new', source: 'approved' });
      expect(await inv.remove('NEW')).to.equal(true);
      expect(await inv.remove('NEW')).to.equal(false);
    });
  });
}

function certsAndRejectionsContract(t: ReturnType<typeof useStore>): void {
  describe('device certificates and rejections', () => {
    it('revokes the certificates of a device serial once, and an unknown fingerprint as external', async () => {
      await t.store.deviceCerts.recordIssued(cert('a', 'S1'));
      await t.store.deviceCerts.recordIssued(cert('b', 'S1'));
      const by = { actor: 'admin', reason: 'lost', at: T0 + 5 };
      const out = await t.store.deviceCerts.revoke({ deviceSerial: 'S1' }, by);
      expect(out.map((r) => r.revokedAt)).to.deep.equal([T0 + 5, T0 + 5]);
      expect(await t.store.deviceCerts.revoke({ deviceSerial: 'S1' }, by)).to.deep.equal([]);
      const ext = await t.store.deviceCerts.revoke({ sha256: 'c'.repeat(64) }, by);
      expect(ext[0]).to.include({ issuedAt: null, revokedBy: 'admin', revokeReason: 'lost' });
      expect((await t.store.deviceCerts.revoked()).length).to.equal(3);
      expect((await t.store.deviceCerts.list({ deviceSerial: 'S1' })).length).to.equal(2);
    });

    it('remembers rejected (serial, hardware UUID) pairs case-insensitively until cleared', async () => {
      await t.store.rejections.add({ serial: 'S', hardwareUuid: 'AB-CD', rejectedAt: T0, rejectedBy: 'admin' });
      expect(await t.store.rejections.has('S', 'ab-cd')).to.equal(true);
      expect(await t.store.rejections.has('S', 'other')).to.equal(false);
      expect(await t.store.rejections.clear('S', 'AB-CD')).to.equal(1);
      expect(await t.store.rejections.list()).to.deep.equal([]);
    });
  });
}

function hostIdentityContract(t: ReturnType<typeof useStore>): void {
  describe('hosts: approval, binding, unenroll by secret', () => {
    it('setEnrollState() activates a pending host and hands back its node key hash', async () => {
      const rec = enrollRecord('P', T0, { state: 'pending', pendingReason: 'unknown_serial', nodeKeyHash: 'hk' });
      const { host } = await t.store.hosts.enroll(rec);
      expect((await t.store.hosts.listPending()).map((h) => h.id)).to.deep.equal([host.id]);
      expect(await t.store.hosts.countPending()).to.equal(1);
      const out = await t.store.hosts.setEnrollState(host.id, 'active', null);
      expect(out?.nodeKeyHash).to.equal('hk');
      expect(out?.host).to.include({ enrollState: 'active', pendingReason: null });
      expect(await t.store.hosts.countPending()).to.equal(0);
      expect(await t.store.hosts.states()).to.deep.equal([{ id: host.id, serial: 'P', state: 'active' }]);
    });

    it('bindCert() binds a renewed certificate; unenrollBySecret() removes the hosts of a secret', async () => {
      const a = await enrollHost(t.store, 'A', { enrollSecretName: 'old', nodeKeyHash: 'ka' });
      await enrollHost(t.store, 'B', { enrollSecretName: 'new', nodeKeyHash: 'kb' });
      const binding = { sha256: 'd'.repeat(64), sha1: 'e'.repeat(40), serial: '0F', notAfter: T0 + 9 };
      await t.store.hosts.bindCert(a, binding);
      expect((await t.store.hosts.get(a))?.cert).to.deep.equal(binding);
      expect(await t.store.hosts.unenrollBySecret('old')).to.deep.equal([{ id: a, serial: 'A', nodeKeyHash: 'ka' }]);
      expect((await t.store.hosts.list()).map((h) => h.serial)).to.deep.equal(['B']);
    });
  });
}

function identityVersionContract(t: ReturnType<typeof useStore>): void {
  describe('deviceIdentityVersion()', () => {
    /** Runs `change` and says whether the version moved. */
    const moves = async (change: () => Promise<unknown>): Promise<boolean> => {
      const before = await t.store.deviceIdentityVersion();
      await change();
      return (await t.store.deviceIdentityVersion()) !== before;
    };

    it('moves with every change to what maps a certificate to a device', async () => {
      const s = t.store;
      const binding = { sha256: 'd'.repeat(64), sha1: 'e'.repeat(40), serial: '0F', notAfter: T0 + 9 };
      let id = 0;
      const held = enrollRecord('H', T0, { state: 'pending', pendingReason: 'unknown_serial', nodeKeyHash: 'kh' });
      const changes: Array<[string, () => Promise<unknown>]> = [
        ['a host enrolled', async () => (id = await enrollHost(s, 'A', { enrollSecretName: 'old' }))],
        ['a host held at enrollment', () => s.hosts.enroll(held)],
        ['a certificate bound', () => s.hosts.bindCert(id, binding)],
        ['the bound certificate renewed', () => s.hosts.bindCert(id, { ...binding, notAfter: T0 + 10 })],
        ['held', () => s.hosts.setEnrollState(id, 'pending', 'serial_conflict')],
        ['approved', () => s.hosts.setEnrollState(id, 'active', null)],
        ['a certificate issued', () => s.deviceCerts.recordIssued(cert('a', 'A'))],
        ['revoked', () => s.deviceCerts.revoke({ deviceSerial: 'A' }, { actor: 'x', reason: 'lost', at: T0 })],
        ['unenrolled', () => s.hosts.unenroll(id)],
        ['another host enrolled', () => enrollHost(s, 'B')],
        ['unenrolled by secret', () => s.hosts.unenrollBySecret('default')],
      ];
      for (const [what, change] of changes) expect(await moves(change), what).to.equal(true);
    });

    it('stays put for what does not: a re-enrollment with the same identity, last-seen times, results', async () => {
      const s = t.store;
      const binding = { sha256: 'd'.repeat(64), sha1: 'e'.repeat(40), serial: '0F', notAfter: T0 + 9 };
      const id = await enrollHost(s, 'A', { cert: binding });
      expect(
        await moves(() => s.hosts.enroll(enrollRecord('A', T0 + 1, { hostname: 'renamed', cert: binding }))),
      ).to.equal(false);
      expect(await moves(() => s.hosts.touch([{ id, at: T0 + 2 }]))).to.equal(false);
      expect(await moves(() => s.results.ingestBatch(batch(id, T0 + 3, snapshot('p/os', '14.5'))))).to.equal(false);
      expect(await moves(() => s.hosts.setEnrollState(id, 'active', null)), 'already active').to.equal(false);
      expect(await moves(() => s.settings.set('devices.version', 'x'))).to.equal(false);
    });

    it('holds across a reopen (it is kept by the store, not by a process)', async function () {
      await enrollHost(t.store, 'A');
      const before = await t.store.deviceIdentityVersion();
      const reopened = await t.reopen(this);
      expect(await reopened.deviceIdentityVersion()).to.equal(before);
    });
  });
}

export function devicesContract(factory: StoreFactory): void {
  describe('device identity (DeviceInventoryRepo, DeviceCertRepo, EnrollRejectionRepo, HostRepo)', () => {
    const t = useStore(factory);
    inventoryContract(t);
    certsAndRejectionsContract(t);
    hostIdentityContract(t);
    identityVersionContract(t);
  });
}
