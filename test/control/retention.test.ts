/**
 * The retention of answered distributed queries (control/retention.ts): on a real SQLite store, what it
 * deletes and keeps, in batches; then through the real server: a live query answered over HTTPS by an
 * enrolled agent, the server restarted 31 days later (the retention runs at start) on the same data.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DistributedQuery } from '../../server/domain/types.js';
import type { Store } from '../../server/domain/ports.js';
import { createRetention } from '../../server/control/retention.js';
import { ManualClock } from '../../server/shared/clock.js';
import { createLogger, silentLogger } from '../../server/shared/log.js';
import { createSqliteStore } from '../../server/store/index.js';
import { startTestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { enrollFrom, takeEnrollmentChecks } from '../osquery/agent.js';
import { enrollHost, T0 } from '../store/contract/support.js';

const DAY = 86_400_000;

const live = (id: string, hostId: number): Omit<DistributedQuery, 'sentAt' | 'completedAt'> => ({
  id,
  hostId,
  sql: 'SELECT 1',
  kind: 'live',
  ref: 'campaign',
  createdAt: T0,
});

describe('retention of answered distributed queries', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-retention-'));
    store = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('deletes, in batches, the queries answered before the retention; keeps later answers and open ones', async () => {
    const a = await enrollHost(store, 'A');
    const ids = ['old1', 'old2', 'old3', 'old4', 'old5', 'recent', 'open'];
    await store.distributed.enqueue(ids.map((id) => live(id, a)));
    for (const id of ids.slice(0, 5)) await store.distributed.complete(a, [{ id, answer: answer() }], T0 + 1000);
    await store.distributed.complete(a, [{ id: 'recent', answer: answer() }], T0 + 20 * DAY);
    const clock = new ManualClock(T0 + 31 * DAY);
    const calls: number[] = [];
    const retention = createRetention({
      distributed: {
        pruneAnswered: async (before, limit) => {
          calls.push(before);
          return store.distributed.pruneAnswered(before, limit);
        },
      },
      clock,
      log: silentLogger(),
      keepMs: 30 * DAY,
      batch: 2,
    });
    const [first, shared] = await Promise.all([retention.prune(), retention.prune()]);
    expect(first).to.equal(5);
    expect(shared, 'a call during a run shares it').to.equal(5);
    expect(calls, 'batches of 2 until one comes back short, one cutoff').to.deep.equal([T0 + DAY, T0 + DAY, T0 + DAY]);
    const left = (await store.distributed.campaignResults('campaign')).map((r) => r.id).sort();
    expect(left).to.deep.equal(['open', 'recent']);
    expect(await retention.prune(), 'nothing more past the retention').to.equal(0);
  });

  it('runs at server start: a live query answered over HTTPS is gone 31 days on, an open one stays', async function () {
    this.timeout(60_000);
    const clock = new ManualClock(Date.now());
    const events: Array<Record<string, unknown>> = [];
    // the server's lines, as the other log tests keep them (a pino destination with a write method)
    const log = createLogger('info', {
      write: (line: string) => void events.push(JSON.parse(line) as Record<string, unknown>),
    });
    const ts = await startTestServer({ clock, log });
    try {
      const answers = await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-windows11-osquery5.4.0.json', {
        serial: 'RET-ANSWERS',
        uuid: 'uuid-ret-1',
      });
      const silent = await enrollFrom(
        ts.client,
        ts.enrollSecret,
        'enroll-request-linux-ubuntu20.04-osquery5.0.1.json',
        {
          serial: 'RET-SILENT',
          uuid: 'uuid-ret-2',
        },
      );
      await takeEnrollmentChecks(answers);
      await takeEnrollmentChecks(silent);
      const q = await ts.client.request('/api/v1/queries', {
        token: ts.adminToken,
        body: { sql: 'SELECT 1 AS one', serials: ['RET-ANSWERS', 'RET-SILENT'] },
      });
      expect(q.status, q.text).to.equal(201);
      const id = (q.json as { id: string }).id;
      const read = (await answers.post('/distributed/read', {})).json as { queries: Record<string, string> };
      const qid = must(Object.keys(read.queries)[0], 'the live query');
      await answers.post('/distributed/write', { queries: { [qid]: [{ one: '1' }] }, statuses: { [qid]: 0 } });
      const results = async () =>
        (await ts.client.request(`/api/v1/queries/${id}`, { token: ts.adminToken })).json as {
          hosts: number;
          answered: number;
        };
      expect(await results()).to.deep.include({ hosts: 2, answered: 1 });

      clock.advance(31 * DAY);
      await ts.restart();
      for (let i = 0; i < 200 && !events.some((e) => e.event === 'retention.distributed_pruned'); i++)
        await new Promise((r) => setTimeout(r, 25));
      const pruned = must(
        events.find((e) => e.event === 'retention.distributed_pruned'),
        'the retention logged what it deleted',
      );
      // the answered live query only: the enrollment-time checks were taken but never answered
      expect(pruned.deleted).to.equal(1);
      expect(await results(), 'the silent host is still asked').to.deep.include({ hosts: 1, answered: 0 });
    } finally {
      await ts.stop();
    }
  });
});

function answer() {
  return { rows: [{ one: '1' }], status: 0, message: '' };
}
