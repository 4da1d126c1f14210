/**
 * The in-process owner of pending distributed work and attention (control/work.ts), on a real SQLite
 * file and a manual clock: what each distributed/read answers, when it needs the store, attention expiry,
 * and work queued by another process (the CLI) picked up by `sync`.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DistributedRepo, EnrollRecord, Store } from '../../server/domain/ports.js';
import type { DistributedQuery } from '../../server/domain/types.js';
import { createInProcessWork, SYNC_OVERLAP_MS, type InProcessWork } from '../../server/control/work.js';
import { ManualClock } from '../../server/shared/clock.js';
import { silentLogger } from '../../server/shared/log.js';
import { createSqliteStore } from '../../server/store/index.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const rec = (serial: string, at: number): EnrollRecord => ({
  serial,
  hardwareUuid: `uuid-${serial}`,
  hostIdentifier: serial,
  hostname: `${serial}.local`,
  platform: 'darwin',
  osPlatform: 'darwin',
  osName: 'macOS',
  osVersion: '14.4',
  osqueryVersion: '5.12.1',
  hardwareVendor: 'Apple',
  hardwareModel: 'Mac',
  enrollSecretName: 'default',
  details: {},
  nodeKeyHash: `hash-${serial}`,
  at,
  state: 'active',
  pendingReason: null,
});

type Item = Omit<DistributedQuery, 'sentAt' | 'completedAt'>;
const recheck = (hostId: number, id: string, at: number): Item => ({
  id,
  hostId,
  sql: `SELECT '${id}';`,
  kind: 'recheck',
  ref: id,
  createdAt: at,
});
const live = (hostId: number, id: string, at: number): Item => ({
  id,
  hostId,
  sql: `SELECT '${id}';`,
  kind: 'live',
  ref: 'campaign',
  createdAt: at,
});

/** The store's distributed repo, counting the calls the work owner makes to it. */
function counted(repo: DistributedRepo): { repo: DistributedRepo; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    repo: {
      enqueue: (items) => {
        calls.push('enqueue');
        return repo.enqueue(items);
      },
      takePending: (h, now, after) => {
        calls.push('takePending');
        return repo.takePending(h, now, after);
      },
      hasPending: (h) => {
        calls.push('hasPending');
        return repo.hasPending(h);
      },
      pendingHostIds: (since) => {
        calls.push(since === undefined ? 'pendingHostIds' : `pendingHostIds since ${since}`);
        return repo.pendingHostIds(since);
      },
      complete: (h, answers, at) => {
        calls.push('complete');
        return repo.complete(h, answers, at);
      },
      sentSince: (h, kind, since) => repo.sentSince(h, kind, since),
      pruneAnswered: (before, limit) => repo.pruneAnswered(before, limit),
      campaignResults: (ref) => repo.campaignResults(ref),
    },
  };
}

describe('distributed work and attention (in process)', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 30, 12, 0, 0));
  let dir: string;
  let server: Store;
  let cli: Store;
  let calls: string[];
  let work: InProcessWork;
  let a: number;
  let b: number;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-work-'));
    server = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
    cli = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
    a = (await server.hosts.enroll(rec('A', clock.now()))).host.id;
    b = (await server.hosts.enroll(rec('B', clock.now()))).host.id;
    const c = counted(server.distributed);
    calls = c.calls;
    work = createInProcessWork({ distributed: c.repo, log: silentLogger(), clock, syncEveryMs: 20 });
  });
  afterEach(async () => {
    work.stop();
    await cli.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a host with nothing pending from memory, without a store call', async () => {
    expect(await work.poll(a, clock.now())).to.deep.equal({ queries: {} });
    expect(calls).to.deep.equal([]);
  });

  it('sends queued queries once, with accelerate 120 while a recheck is pending, then forgets the host', async () => {
    await work.enqueue([recheck(a, 'q1', clock.now()), live(a, 'q2', clock.now())]);
    expect(await work.poll(b, clock.now()), 'another host').to.deep.equal({ queries: {} });
    expect(await work.poll(a, clock.now())).to.deep.equal({
      queries: { q1: "SELECT 'q1';", q2: "SELECT 'q2';" },
      accelerate: 120,
    });
    calls.length = 0;
    clock.advance(10 * SECOND);
    expect(await work.poll(a, clock.now()), 'sent, not answered, not due again').to.deep.equal({ queries: {} });
    expect(calls, 'still pending: the store is asked').to.deep.equal(['takePending', 'hasPending']);

    await work.complete(a, [{ id: 'q1', answer: { rows: [], status: 0, message: '' } }], clock.now());
    clock.advance(5 * MINUTE);
    expect(await work.poll(a, clock.now()), 'the unanswered one is sent again after 5 minutes').to.deep.equal({
      queries: { q2: "SELECT 'q2';" },
    });
    await work.complete(a, [{ id: 'q2', answer: { rows: [], status: 0, message: '' } }], clock.now());
    clock.advance(5 * MINUTE);
    expect(await work.poll(a, clock.now())).to.deep.equal({ queries: {} });
    calls.length = 0;
    expect(await work.poll(a, clock.now()), 'everything answered').to.deep.equal({ queries: {} });
    expect(calls).to.deep.equal([]);
  });

  it('returns undefined when completing an unknown query id', async () => {
    expect(
      await work.complete(a, [{ id: 'nope', answer: { rows: [], status: 0, message: '' } }], clock.now()),
    ).to.deep.equal([undefined]);
  });

  it('answers an attended host with the seconds of attention left, until it expires', async () => {
    await work.attend(a, clock.now() + 10 * MINUTE);
    expect(await work.poll(a, clock.now())).to.deep.equal({ queries: {}, accelerate: 600 });
    expect(await work.poll(b, clock.now())).to.deep.equal({ queries: {} });
    clock.advance(9 * MINUTE + 59.5 * SECOND);
    expect(await work.poll(a, clock.now()), 'rounded up to whole seconds').to.deep.equal({
      queries: {},
      accelerate: 1,
    });
    clock.advance(0.5 * SECOND);
    expect(await work.poll(a, clock.now()), 'expired').to.deep.equal({ queries: {} });
    expect(calls).to.deep.equal([]);

    await work.attend(a, clock.now() + 60 * SECOND);
    await work.attend(a, clock.now() + 30 * SECOND);
    expect(await work.poll(a, clock.now()), 'a shorter attention does not cut a longer one').to.deep.equal({
      queries: {},
      accelerate: 60,
    });
  });

  it('combines attention and work: the longer accelerate wins for a recheck, attention for a live query', async () => {
    await work.attend(a, clock.now() + 10 * MINUTE);
    await work.attend(b, clock.now() + 30 * SECOND);
    await work.enqueue([recheck(a, 'ra', clock.now()), recheck(b, 'rb', clock.now())]);
    expect((await work.poll(a, clock.now())).accelerate).to.equal(600);
    expect((await work.poll(b, clock.now())).accelerate).to.equal(120);

    await work.enqueue([live(a, 'la', clock.now()), live(b, 'lb', clock.now())]);
    expect(await work.poll(a, clock.now())).to.deep.equal({ queries: { la: "SELECT 'la';" }, accelerate: 600 });
    clock.advance(31 * SECOND);
    expect(await work.poll(b, clock.now()), 'attention over: no accelerate for a live query').to.deep.equal({
      queries: { lb: "SELECT 'lb';" },
    });
  });

  it('sends enrollment-time checks with accelerate 15 s; a recheck or attention beside them wins', async () => {
    const enroll = (hostId: number, id: string): Item => ({ ...recheck(hostId, id, clock.now()), kind: 'enroll' });
    await work.enqueue([enroll(a, 'ea')]);
    expect(await work.poll(a, clock.now())).to.deep.equal({ queries: { ea: "SELECT 'ea';" }, accelerate: 15 });
    await work.enqueue([enroll(a, 'eb'), recheck(a, 'rb', clock.now())]);
    expect((await work.poll(a, clock.now())).accelerate).to.equal(120);
    await work.attend(b, clock.now() + 10 * MINUTE);
    await work.enqueue([enroll(b, 'ec')]);
    expect((await work.poll(b, clock.now())).accelerate).to.equal(600);
  });

  it('picks up work another process (the CLI) queued, at sync', async () => {
    await cli.distributed.enqueue([recheck(a, 'from-cli', clock.now())]);
    expect(await work.poll(a, clock.now()), 'not known before a sync').to.deep.equal({ queries: {} });
    await work.sync();
    expect(await work.poll(a, clock.now())).to.deep.equal({
      queries: { 'from-cli': "SELECT 'from-cli';" },
      accelerate: 120,
    });
  });

  it('reads every open query at the first sync, then those queued since the last sync less the overlap', async () => {
    const t0 = clock.now();
    await cli.distributed.enqueue([recheck(a, 'old', t0 - 10 * MINUTE)]);
    await work.sync();
    expect(calls).to.deep.equal(['pendingHostIds']);
    expect((await work.poll(a, clock.now())).queries, 'an old open query is found by the first sync').to.have.key(
      'old',
    );

    clock.advance(2 * SECOND);
    calls.length = 0;
    // stamped 30 s before the last sync (a CLI's clock a little behind, or a slow commit): inside the overlap
    await cli.distributed.enqueue([recheck(b, 'late', t0 - 30 * SECOND)]);
    await work.sync();
    expect(calls).to.deep.equal([`pendingHostIds since ${t0 - SYNC_OVERLAP_MS}`]);
    expect((await work.poll(b, clock.now())).queries).to.have.key('late');

    clock.advance(2 * SECOND);
    calls.length = 0;
    await work.sync();
    expect(calls, 'the next sync starts from this one').to.deep.equal([
      `pendingHostIds since ${t0 + 2 * SECOND - SYNC_OVERLAP_MS}`,
    ]);
  });

  it('syncs on its own once started, and no more once stopped', async () => {
    work.start();
    await cli.distributed.enqueue([live(b, 'l1', clock.now())]);
    await waitFor(() => calls.some((c) => c.startsWith('pendingHostIds')));
    await new Promise((r) => setTimeout(r, 60));
    expect(await work.poll(b, clock.now())).to.deep.equal({ queries: { l1: "SELECT 'l1';" } });

    work.stop();
    await new Promise((r) => setTimeout(r, 60));
    calls.length = 0;
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).to.deep.equal([]);
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
