/** The HostRepo contract: enrollment and re-enrollment, look-ups, listing, last-seen times, unenrollment. */
import { expect } from 'chai';
import {
  useStore,
  enrollRecord,
  enrollHost,
  batch,
  snapshot,
  checkState,
  expectAppError,
  T0,
  type StoreFactory,
} from './support.js';

export function hostsContract(factory: StoreFactory): void {
  describe('hosts (HostRepo)', () => {
    const t = useStore(factory);

    describe('enroll()', () => {
      it('creates a host with the reported facts, enrolled and last seen at the enrollment time', async () => {
        const rec = enrollRecord('C02A', T0, { hostname: 'alice-mbp', platform: 'darwin', osVersion: '14.5' });
        const out = await t.store.hosts.enroll(rec);
        expect(out.reenrolled).to.equal(false);
        expect(out.revokedNodeKeyHash).to.equal(null);
        expect(out.host.id).to.be.a('number').and.greaterThan(0);
        expect(out.host).to.deep.equal({
          id: out.host.id,
          serial: 'C02A',
          hardwareUuid: 'uuid-C02A',
          hostIdentifier: 'C02A',
          hostname: 'alice-mbp',
          platform: 'darwin',
          osPlatform: 'darwin',
          osName: 'macOS',
          osVersion: '14.5',
          osqueryVersion: '5.12.1',
          hardwareVendor: 'Apple',
          hardwareModel: 'Mac',
          enrolledAt: T0,
          lastSeenAt: T0,
          serialConflict: false,
          enrollSecretName: 'default',
          enrollState: 'active',
          pendingReason: null,
          cert: null,
        });
        expect(out.conflictWith).to.deep.equal([]);
        expect(await t.store.hosts.get(out.host.id)).to.deep.equal(out.host);
      });

      it('reuses the host of the same serial and hardware UUID and revokes its previous node key', async () => {
        const first = await t.store.hosts.enroll(enrollRecord('C02A', T0));
        const again = await t.store.hosts.enroll(
          enrollRecord('C02A', T0 + 3000, { hostname: 'renamed', details: { os_version: { version: '15.0' } } }),
        );
        expect(again.reenrolled).to.equal(true);
        expect(again.revokedNodeKeyHash).to.equal(`hash-C02A-${T0}`);
        expect(again.host).to.include({
          id: first.host.id,
          hostname: 'renamed',
          enrolledAt: T0,
          lastSeenAt: T0 + 3000,
        });
        expect(await t.store.hosts.findByNodeKeyHash(`hash-C02A-${T0}`)).to.equal(undefined);
        expect((await t.store.hosts.findByNodeKeyHash(`hash-C02A-${T0 + 3000}`))?.id).to.equal(first.host.id);
        expect(await t.store.hosts.details(first.host.id)).to.deep.equal({ os_version: { version: '15.0' } });
        expect(await t.store.hosts.count()).to.equal(1);
      });

      it('refuses with a conflict a node key hash another host holds, changing nothing', async () => {
        const a = (await t.store.hosts.enroll(enrollRecord('A', T0, { nodeKeyHash: 'shared' }))).host;
        await expectAppError(t.store.hosts.enroll(enrollRecord('B', T0, { nodeKeyHash: 'shared' })), 'conflict');
        expect(await t.store.hosts.findBySerial('B')).to.deep.equal([]);
        expect((await t.store.hosts.findByNodeKeyHash('shared'))?.id).to.equal(a.id);
        expect(await t.store.hosts.count()).to.equal(1);
      });

      it('keeps the device enrolled first active and holds another device of its serial pending', async () => {
        const a = (await t.store.hosts.enroll(enrollRecord('DUP', T0, { hardwareUuid: 'U1', nodeKeyHash: 'k1' }))).host;
        expect(a.serialConflict).to.equal(false);
        const out = await t.store.hosts.enroll(enrollRecord('DUP', T0, { hardwareUuid: 'U2', nodeKeyHash: 'k2' }));
        const b = out.host;
        expect(b.id).to.not.equal(a.id);
        expect(b).to.include({ enrollState: 'pending', pendingReason: 'serial_conflict', serialConflict: true });
        expect(out.conflictWith.map((h) => h.id)).to.deep.equal([a.id]);
        const both = await t.store.hosts.findBySerial('DUP');
        expect(both.map((h) => [h.id, h.hardwareUuid, h.enrollState, h.serialConflict])).to.deep.equal([
          [a.id, 'U1', 'active', false],
          [b.id, 'U2', 'pending', true],
        ]);
        // the pending device enrolling again stays pending while the established one is active
        const again = await t.store.hosts.enroll(
          enrollRecord('DUP', T0 + 1, { hardwareUuid: 'U2', nodeKeyHash: 'k3' }),
        );
        expect(again.host).to.include({ id: b.id, enrollState: 'pending', pendingReason: 'serial_conflict' });
      });

      it('stores the state and reason the gate decided, and the certificate it binds', async () => {
        const cert = { sha256: 'a'.repeat(64), sha1: 'b'.repeat(40), serial: '01AB', notAfter: T0 + 1000 };
        const out = await t.store.hosts.enroll(
          enrollRecord('NEW', T0, { state: 'pending', pendingReason: 'unknown_serial', cert }),
        );
        expect(out.host).to.include({ enrollState: 'pending', pendingReason: 'unknown_serial' });
        expect(out.host.cert).to.deep.equal(cert);
        // a re-enrollment without a certificate keeps the binding
        const again = await t.store.hosts.enroll(enrollRecord('NEW', T0 + 5, { nodeKeyHash: 'other' }));
        expect(again.host).to.include({ enrollState: 'active', pendingReason: null });
        expect(again.host.cert).to.deep.equal(cert);
      });
    });

    describe('look-ups', () => {
      it('activeCerts() lists the active hosts by id with their bound certificate, and no held host', async () => {
        const cert = { sha256: 'c'.repeat(64), sha1: 'd'.repeat(40), serial: '0C', notAfter: T0 + 1000 };
        const bound = await t.store.hosts.enroll(enrollRecord('BOUND', T0, { cert }));
        const plain = await enrollHost(t.store, 'PLAIN');
        await t.store.hosts.enroll(
          enrollRecord('HELD', T0, {
            state: 'pending',
            pendingReason: 'unknown_serial',
            cert: { ...cert, sha1: 'e'.repeat(40) },
          }),
        );
        expect(await t.store.hosts.activeCerts()).to.deep.equal([
          { id: bound.host.id, serial: 'BOUND', cert },
          { id: plain, serial: 'PLAIN', cert: null },
        ]);
      });

      it('activeCerts({ afterId, limit }) reads them a page at a time, held hosts skipped', async () => {
        const ids: number[] = [];
        for (const s of ['P1', 'P2', 'P3']) ids.push(await enrollHost(t.store, s));
        await t.store.hosts.enroll(enrollRecord('HELD', T0, { state: 'pending', pendingReason: 'unknown_serial' }));
        const p4 = await enrollHost(t.store, 'P4');
        const first = await t.store.hosts.activeCerts({ afterId: 0, limit: 2 });
        expect(first.map((h) => h.serial)).to.deep.equal(['P1', 'P2']);
        const next = await t.store.hosts.activeCerts({ afterId: ids[1] ?? 0, limit: 2 });
        expect(next.map((h) => h.serial)).to.deep.equal(['P3', 'P4']);
        expect(await t.store.hosts.activeCerts({ afterId: p4, limit: 2 })).to.deep.equal([]);
      });

      it('findByNodeKeyHash() finds the host of its current node key hash', async () => {
        const id = await enrollHost(t.store, 'C02A', { nodeKeyHash: 'the-hash' });
        expect((await t.store.hosts.findByNodeKeyHash('the-hash'))?.id).to.equal(id);
      });

      it('findByNodeKeyHash() returns undefined for an unknown hash', async () => {
        await enrollHost(t.store, 'C02A');
        expect(await t.store.hosts.findByNodeKeyHash('unknown')).to.equal(undefined);
      });

      it('get() and details() return undefined for an unknown id', async () => {
        expect(await t.store.hosts.get(424_242)).to.equal(undefined);
        expect(await t.store.hosts.details(424_242)).to.equal(undefined);
      });

      it('details() returns the host details reported at enrollment', async () => {
        const details = {
          system_info: { hardware_serial: 'C02A', cpu_brand: 'M3 "Pro"' },
          os_version: { major: '14' },
        };
        const id = await enrollHost(t.store, 'C02A', { details });
        expect(await t.store.hosts.details(id)).to.deep.equal(details);
      });

      it('findBySerial() returns an empty list for an unknown serial', async () => {
        await enrollHost(t.store, 'C02A');
        expect(await t.store.hosts.findBySerial('nope')).to.deep.equal([]);
      });
    });

    describe('list() and count()', () => {
      async function three(): Promise<number[]> {
        return [
          await enrollHost(t.store, 'S1', { platform: 'darwin', hostname: 'alice-mbp' }),
          await enrollHost(t.store, 'S2', { platform: 'linux', hostname: 'build_01', hardwareUuid: 'HW-XYZ' }),
          await enrollHost(t.store, 'S3', { platform: 'linux', hostname: 'build-02' }),
        ];
      }

      it('list() returns every host in enrollment (id) order; count() counts them', async () => {
        expect(await t.store.hosts.list()).to.deep.equal([]);
        expect(await t.store.hosts.count()).to.equal(0);
        const ids = await three();
        expect((await t.store.hosts.list()).map((h) => h.id)).to.deep.equal(ids);
        expect(await t.store.hosts.count()).to.equal(3);
      });

      it('list() filters by platform and by a substring of serial, hostname or hardware UUID', async () => {
        await three();
        const serials = async (f: Parameters<typeof t.store.hosts.list>[0]) =>
          (await t.store.hosts.list(f)).map((h) => h.serial);
        expect(await serials({ platform: 'linux' })).to.deep.equal(['S2', 'S3']);
        expect(await serials({ search: 'S1' })).to.deep.equal(['S1']);
        expect(await serials({ search: 'build' })).to.deep.equal(['S2', 'S3']);
        expect(await serials({ search: 'XYZ' })).to.deep.equal(['S2']);
        expect(await serials({ platform: 'darwin', search: 'build' })).to.deep.equal([]);
      });

      it('list() matches % and _ in a search literally', async () => {
        await three();
        const serials = async (search: string) => (await t.store.hosts.list({ search })).map((h) => h.serial);
        expect(await serials('build_')).to.deep.equal(['S2']);
        expect(await serials('%')).to.deep.equal([]);
      });

      it('list() matches %, _ and \\ literally in every searched column (hardware UUID too)', async () => {
        await enrollHost(t.store, 'P1', { hostname: 'p1', hardwareUuid: 'HW_1%' });
        await enrollHost(t.store, 'P2', { hostname: 'p2', hardwareUuid: 'HWX1-AB' });
        await enrollHost(t.store, 'P3', { hostname: 'p3', hardwareUuid: 'HW\\2' });
        await enrollHost(t.store, 'P4', { hostname: 'p4', hardwareUuid: 'HW2' });
        const serials = async (search: string) => (await t.store.hosts.list({ search })).map((h) => h.serial);
        expect(await serials('HW_1')).to.deep.equal(['P1']);
        expect(await serials('1%')).to.deep.equal(['P1']);
        expect(await serials('W\\2')).to.deep.equal(['P3']);
        expect(await serials('HW\\')).to.deep.equal(['P3']);
      });

      it('list() pages with limit and offset in id order', async () => {
        await three();
        const serials = async (limit: number, offset?: number) =>
          (await t.store.hosts.list({ limit, offset })).map((h) => h.serial);
        expect(await serials(2)).to.deep.equal(['S1', 'S2']);
        expect(await serials(2, 2)).to.deep.equal(['S3']);
        expect(await serials(5, 3)).to.deep.equal([]);
      });
    });

    describe('touch()', () => {
      it('keeps the latest of the touched times, visible through every read, and survives a reopen', async function () {
        const a = (await t.store.hosts.enroll(enrollRecord('A', T0))).host;
        const b = (await t.store.hosts.enroll(enrollRecord('B', T0))).host;
        expect(a.lastSeenAt).to.equal(T0);
        await t.store.hosts.touch([
          { id: a.id, at: T0 + 5000 },
          { id: b.id, at: T0 + 1000 },
        ]);
        await t.store.hosts.touch([{ id: a.id, at: T0 + 2000 }]); // older than what is stored: ignored
        const hosts = await t.reopen(this);
        expect((await hosts.hosts.get(a.id))?.lastSeenAt).to.equal(T0 + 5000);
        expect((await hosts.hosts.findByNodeKeyHash(`hash-A-${T0}`))?.lastSeenAt).to.equal(T0 + 5000);
        expect((await hosts.hosts.findBySerial('B')).map((h) => h.lastSeenAt)).to.deep.equal([T0 + 1000]);
        expect((await hosts.hosts.list()).map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([
          ['A', T0 + 5000],
          ['B', T0 + 1000],
        ]);
        const searched = await hosts.hosts.list({ search: 'B', limit: 5 });
        expect(searched.map((h) => [h.serial, h.lastSeenAt])).to.deep.equal([['B', T0 + 1000]]);
      });

      it('sets the last-seen time on re-enrollment and ignores touches of unenrolled hosts', async () => {
        const a = (await t.store.hosts.enroll(enrollRecord('A', T0))).host;
        const gone = (await t.store.hosts.enroll(enrollRecord('GONE', T0))).host;
        await t.store.hosts.touch([{ id: a.id, at: T0 + 9000 }]);
        const again = await t.store.hosts.enroll(enrollRecord('A', T0 + 3000));
        expect([again.reenrolled, again.host.id, again.host.lastSeenAt]).to.deep.equal([true, a.id, T0 + 3000]);
        expect((await t.store.hosts.get(a.id))?.lastSeenAt).to.equal(T0 + 3000);
        await t.store.hosts.unenroll(gone.id);
        await t.store.hosts.touch([
          { id: gone.id, at: T0 + 10_000 },
          { id: a.id, at: T0 + 10_000 },
        ]);
        expect((await t.store.hosts.get(a.id))?.lastSeenAt).to.equal(T0 + 10_000);
        expect(await t.store.hosts.get(gone.id)).to.equal(undefined);
      });

      it('does nothing for an empty list', async () => {
        const id = await enrollHost(t.store, 'A');
        await t.store.hosts.touch([]);
        expect((await t.store.hosts.get(id))?.lastSeenAt).to.equal(T0);
      });
    });

    describe('unenroll()', () => {
      it('returns the node key hash and stops the key from finding the host', async () => {
        const id = await enrollHost(t.store, 'A', { nodeKeyHash: 'k-A' });
        expect(await t.store.hosts.unenroll(id)).to.equal('k-A');
        expect(await t.store.hosts.findByNodeKeyHash('k-A')).to.equal(undefined);
        expect(await t.store.hosts.get(id)).to.equal(undefined);
        expect(await t.store.hosts.list()).to.deep.equal([]);
        expect(await t.store.hosts.count()).to.equal(0);
      });

      it('returns null for an unknown id (and a second time)', async () => {
        const id = await enrollHost(t.store, 'A');
        expect(await t.store.hosts.unenroll(424_242)).to.equal(null);
        await t.store.hosts.unenroll(id);
        expect(await t.store.hosts.unenroll(id)).to.equal(null);
      });

      it('removes everything about the host: results, status logs, check states, queries, carves', async () => {
        const id = await enrollHost(t.store, 'A');
        const other = await enrollHost(t.store, 'B');
        const status = { unixTime: T0 / 1000, severity: 0, filename: 'f.cpp', line: 1, message: 'm', version: '5' };
        await t.store.results.ingestBatch({ ...batch(id, T0, snapshot('p/os', '14.4')), statuses: [status] });
        await t.store.results.ingestBatch(batch(other, T0, snapshot('p/os', '13.1')));
        await t.store.checkStates.putMany([checkState(id, 'os', 'pass'), checkState(other, 'os', 'pass')]);
        await t.store.distributed.enqueue([
          { id: 'q1', hostId: id, sql: 'SELECT 1', kind: 'live', ref: 'c1', createdAt: T0 },
        ]);
        const carve = {
          hostId: id,
          carveId: 'c',
          requestId: 'r',
          blockCount: 2,
          blockSize: 4,
          carveSize: 8,
          createdAt: T0,
        };
        await t.store.carves.begin({ ...carve, sessionId: 's1' });
        await t.store.hosts.unenroll(id);
        expect(await t.store.results.latestForHost(id)).to.deep.equal([]);
        expect(await t.store.results.statusLogs(id, 10)).to.deep.equal([]);
        expect((await t.store.results.latestForQueries(['p/os'])).map((l) => l.hostId)).to.deep.equal([other]);
        expect(await t.store.checkStates.forHost(id)).to.deep.equal([]);
        expect((await t.store.checkStates.all()).map((s) => s.hostId)).to.deep.equal([other]);
        expect(await t.store.distributed.hasPending(id)).to.equal(false);
        expect(await t.store.distributed.pendingHostIds()).to.deep.equal([]);
        expect(await t.store.carves.get('s1')).to.equal(undefined);
      });

      it('clears the serial conflict flag of the device left alone with its serial', async () => {
        const a = (await t.store.hosts.enroll(enrollRecord('DUP', T0, { hardwareUuid: 'U1', nodeKeyHash: 'k1' }))).host;
        const b = (await t.store.hosts.enroll(enrollRecord('DUP', T0, { hardwareUuid: 'U2', nodeKeyHash: 'k2' }))).host;
        await t.store.hosts.unenroll(b.id);
        expect((await t.store.hosts.get(a.id))?.serialConflict).to.equal(false);
      });
    });
  });
}
