/**
 * The policy swap and the bundle rebuild in chunks that yield to the event loop (issue #16): the same
 * result as the one-go swap (setPolicy), one bundle text whose ETag hashes the whole, decisions answered
 * meanwhile, and nothing the ingest changed during a swap lost. "Yields" is shown by a setImmediate
 * callback queued before the call running before the call completes (no timing).
 */
import { expect } from 'chai';
import { sha256Hex } from '../../server/shared/crypto.js';
import { BUNDLE_CHUNK } from '../../server/posture/bundle.js';
import { SWAP_CHUNK } from '../../server/posture/swap-chunked.js';
import { CHECKS, fixture, POLICY } from './engine-fixture.js';
import { applies, HOUR, host, policy, resource, tier } from './support.js';

const N = Math.max(BUNDLE_CHUNK, SWAP_CHUNK) * 2 + 17;
const serialOf = (i: number): string => `SN${String(i).padStart(6, '0')}`;

function bigFleet() {
  const f = fixture();
  for (let i = 1; i <= N; i++) f.report(host(i, serialOf(i)), i % 3 === 0 ? { firewall: [] } : {});
  return f;
}

/** Runs `op`, noting whether a setImmediate queued before it ran before `op` settled. */
async function yieldsDuring<T>(op: () => Promise<T>): Promise<{ value: T; yielded: boolean }> {
  let ran = false;
  setImmediate(() => (ran = true));
  const p = op();
  let yielded = false;
  void p.then(() => (yielded = ran));
  const value = await p;
  await Promise.resolve();
  return { value, yielded };
}

const NEXT = policy(
  [tier('medium', HOUR, ['disk_encryption', 'firewall']), tier('low', 24 * HOUR, ['osquery_healthy'])],
  [resource('staging', 'medium'), resource('wiki', 'low', 'monitor')],
);

describe('createPostureEngine: chunked swaps and rebuilds', function () {
  this.timeout(60_000);

  it('rebuilds the bundle in chunks that yield: one JSON text, its ETag the hash of the whole', async () => {
    const f = bigFleet();
    const { value, yielded } = await yieldsDuring(() => f.engine.bundleInChunks());
    expect(yielded).to.equal(true);
    expect(value.etag).to.equal(`"${sha256Hex(value.json).slice(0, 32)}"`);
    const devices = (JSON.parse(value.json) as { devices: Array<{ serial: string }> }).devices;
    expect(devices.map((d) => d.serial)).to.deep.equal(Array.from({ length: N }, (_, i) => serialOf(i + 1)).sort());
    // kept in pieces for the gateway API to write one at a time: head, a piece per chunk of devices, tail
    expect(value.parts).to.have.length(2 + Math.ceil(N / BUNDLE_CHUNK));
    expect(value.parts.every((p) => Buffer.isBuffer(p))).to.equal(true); // bytes, outside the JS heap
    expect(Buffer.concat(value.parts).toString('utf8')).to.equal(value.json);
    // cached while nothing changes; rebuilt after a change
    expect(await f.engine.bundleInChunks()).to.equal(value);
    f.report(host(1, serialOf(1)), { firewall: [] });
    expect((await f.engine.bundleInChunks()).etag).to.not.equal(value.etag);
  });

  it('keeps text beyond Latin-1 intact in the bundle bytes (a hostname with a typographic apostrophe)', async () => {
    const f = bigFleet();
    f.report(host(N + 1, 'SN-UNICODE', { hostname: 'Zoë’s MacBook' }), {});
    const chunked = await f.engine.bundleInChunks();
    expect(chunked.etag).to.equal(`"${sha256Hex(chunked.json).slice(0, 32)}"`);
    const devices = (JSON.parse(chunked.json) as { devices: Array<{ serial: string; hostname: string }> }).devices;
    expect(devices.find((d) => d.serial === 'SN-UNICODE')?.hostname).to.equal('Zoë’s MacBook');
  });

  it('shares one rebuild between concurrent callers', async () => {
    const f = bigFleet();
    const [a, b] = await Promise.all([f.engine.bundleInChunks(), f.engine.bundleInChunks()]);
    expect(a).to.equal(b);
  });

  it('swaps the policy in chunks that yield, answering decisions on the old policy until the swap', async () => {
    const f = bigFleet();
    const swapping = f.engine.setPolicyInChunks(NEXT, CHECKS, applies);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // mid-swap: the old policy still decides
    expect(f.v(serialOf(3), 'prod-db').decision).to.equal('deny');
    const out = await swapping;
    expect(out.reevaluate).to.deep.equal([]);
    expect(f.engine.verdict(serialOf(3), 'prod-db', 'alice', f.clock.now()).kind).to.equal('unknown_resource');
    expect(f.v(serialOf(3), 'staging').decision).to.equal('deny');
    expect(f.v(serialOf(4), 'staging').decision).to.equal('allow');
    const { yielded } = await yieldsDuring(() => f.engine.setPolicyInChunks(POLICY, CHECKS, applies));
    expect(yielded).to.equal(true);
  });

  it('keeps what the ingest changed during a swap (results, new hosts, removed hosts)', async () => {
    const f = bigFleet();
    const reference = bigFleet();
    // the bundle's sorted serials exist before the swap, and a serial comes and goes during it
    await f.engine.bundleInChunks();
    const swapping = f.engine.setPolicyInChunks(NEXT, CHECKS, applies);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const changes = (g: typeof f) => {
      g.report(host(1, serialOf(1)), { firewall: [] }); // early record, carried over before: again at the end
      g.report(host(N, serialOf(N)), { firewall: [] }); // late record
      g.report(host(N + 1, 'NEW-HOST'), { firewall: [] });
      g.engine.removeHost(serialOf(2));
    };
    changes(f);
    await swapping;
    reference.engine.setPolicy(NEXT, CHECKS, applies);
    changes(reference);
    for (const sn of [serialOf(1), serialOf(2), serialOf(N), 'NEW-HOST', serialOf(4)]) {
      expect(f.engine.verdict(sn, 'staging', 'alice', f.clock.now()), sn).to.deep.equal(
        reference.engine.verdict(sn, 'staging', 'alice', f.clock.now()),
      );
    }
    expect((await f.engine.bundleInChunks()).json).to.equal((await reference.engine.bundleInChunks()).json);
    expect(f.engine.stats()).to.deep.equal(reference.engine.stats());
  });

  it('gives the same bundle after a swap that changed no serial as a one-go policy change', async () => {
    const f = bigFleet();
    const reference = bigFleet();
    await f.engine.bundleInChunks(); // sorted once before the swap: carried over, not sorted again
    const swapping = f.engine.setPolicyInChunks(NEXT, CHECKS, applies);
    await new Promise<void>((resolve) => setImmediate(resolve));
    f.report(host(3, serialOf(3)), { firewall: [] }); // a result, no new serial
    await swapping;
    reference.engine.setPolicy(NEXT, CHECKS, applies);
    reference.report(host(3, serialOf(3)), { firewall: [] });
    expect((await f.engine.bundleInChunks()).json).to.equal((await reference.engine.bundleInChunks()).json);
    f.report(host(N + 5, 'AAA-FIRST'), {}); // a serial after the swap: sorted in
    reference.report(host(N + 5, 'AAA-FIRST'), {});
    expect(JSON.parse((await f.engine.bundleInChunks()).json).devices[0].serial).to.equal('AAA-FIRST');
    expect((await f.engine.bundleInChunks()).json).to.equal((await reference.engine.bundleInChunks()).json);
  });

  it('runs swaps one at a time, in call order', async () => {
    const f = bigFleet();
    const a = f.engine.setPolicyInChunks(NEXT, CHECKS, applies);
    const b = f.engine.setPolicyInChunks(POLICY, CHECKS, applies);
    await Promise.all([a, b]);
    expect(f.v(serialOf(3), 'prod-db').decision).to.equal('deny');
    expect(f.engine.verdict(serialOf(3), 'staging', 'alice', f.clock.now()).kind).to.equal('verdict');
  });
});
