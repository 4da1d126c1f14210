/** The CarveRepo contract: file carve sessions, their blocks in any order, the assembled data. */
import { expect } from 'chai';
import type { Carve } from '../../../server/domain/ports.js';
import { useStore, enrollHost, expectAppError, T0, type StoreFactory } from './support.js';

type Begun = Omit<Carve, 'blocksReceived' | 'completedAt'>;

const session = (sessionId: string, hostId: number, over: Partial<Begun> = {}): Begun => ({
  sessionId,
  hostId,
  carveId: `carve-${sessionId}`,
  requestId: 'req-1',
  blockCount: 3,
  blockSize: 4,
  carveSize: 10,
  createdAt: T0,
  ...over,
});

export function carvesContract(factory: StoreFactory): void {
  describe('carves (CarveRepo)', () => {
    const t = useStore(factory);

    it('begin() starts a session that get() returns with no block received', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.carves.begin(session('s1', a));
      expect(await t.store.carves.get('s1')).to.deep.equal({
        ...session('s1', a),
        blocksReceived: 0,
        completedAt: null,
      });
    });

    it('get() and data() return undefined for an unknown session', async () => {
      expect(await t.store.carves.get('nope')).to.equal(undefined);
      expect(await t.store.carves.data('nope')).to.equal(undefined);
    });

    it('addBlock() counts each block once, ignoring a duplicate, and returns the carve after the write', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.carves.begin(session('s1', a));
      expect(await t.store.carves.addBlock('s1', 1, Buffer.from('5678'), T0 + 1)).to.include({
        blocksReceived: 1,
        completedAt: null,
      });
      const dup = await t.store.carves.addBlock('s1', 1, Buffer.from('XXXX'), T0 + 2);
      expect(dup).to.include({ blocksReceived: 1, completedAt: null });
    });

    it('completes when every block arrived, at the last one’s time; data() assembles them by block id', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.carves.begin(session('s1', a));
      await t.store.carves.addBlock('s1', 2, Buffer.from('90'), T0 + 1);
      await t.store.carves.addBlock('s1', 0, Buffer.from('1234'), T0 + 2);
      expect(await t.store.carves.data('s1')).to.equal(undefined); // not complete yet
      const done = await t.store.carves.addBlock('s1', 1, Buffer.from('5678'), T0 + 3);
      expect(done).to.deep.equal({ ...session('s1', a), blocksReceived: 3, completedAt: T0 + 3 });
      expect((await t.store.carves.data('s1'))?.toString()).to.equal('1234567890');
      // a late duplicate changes nothing
      const late = await t.store.carves.addBlock('s1', 0, Buffer.from('XXXX'), T0 + 9);
      expect(late).to.include({ blocksReceived: 3, completedAt: T0 + 3 });
      expect((await t.store.carves.data('s1'))?.toString()).to.equal('1234567890');
    });

    it('round-trips binary block data byte for byte', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.carves.begin(session('bin', a, { blockCount: 1, blockSize: 256, carveSize: 256 }));
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await t.store.carves.addBlock('bin', 0, bytes, T0);
      expect((await t.store.carves.data('bin'))?.equals(bytes)).to.equal(true);
    });

    it('addBlock() of an unknown session fails with not_found', async () => {
      await expectAppError(t.store.carves.addBlock('nope', 0, Buffer.from('x'), T0), 'not_found');
    });

    it('begin() for a host not enrolled (or unenrolled meanwhile) fails with not_found, storing nothing', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.hosts.unenroll(a);
      await expectAppError(t.store.carves.begin(session('s1', a)), 'not_found');
      await expectAppError(t.store.carves.begin(session('s2', 424_242)), 'not_found');
      expect(await t.store.carves.list()).to.deep.equal([]);
    });

    it('begin() of a session id already in use fails with a conflict and keeps the first session', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      await t.store.carves.begin(session('s1', a));
      await expectAppError(t.store.carves.begin(session('s1', b, { carveId: 'other' })), 'conflict');
      expect(await t.store.carves.get('s1')).to.deep.equal({
        ...session('s1', a),
        blocksReceived: 0,
        completedAt: null,
      });
    });

    it('list() returns every session, newest first', async () => {
      const a = await enrollHost(t.store, 'A');
      await t.store.carves.begin(session('old', a, { createdAt: T0 }));
      await t.store.carves.begin(session('new', a, { createdAt: T0 + 10 }));
      await t.store.carves.begin(session('mid', a, { createdAt: T0 + 5 }));
      expect((await t.store.carves.list()).map((c) => c.sessionId)).to.deep.equal(['new', 'mid', 'old']);
    });

    it('ofHost() returns one host’s carves begun since a time, oldest first', async () => {
      const a = await enrollHost(t.store, 'A');
      const b = await enrollHost(t.store, 'B');
      await t.store.carves.begin(session('before', a, { createdAt: T0 }));
      await t.store.carves.begin(session('later', a, { createdAt: T0 + 9 }));
      await t.store.carves.begin(session('first', a, { createdAt: T0 + 5 }));
      await t.store.carves.begin(session('b', b, { createdAt: T0 + 6 }));
      expect((await t.store.carves.ofHost(a, T0 + 5)).map((c) => c.sessionId)).to.deep.equal(['first', 'later']);
      expect(await t.store.carves.ofHost(b, T0 + 7)).to.deep.equal([]);
    });
  });
}
