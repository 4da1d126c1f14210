/**
 * SQLite only: the connection's write gate (write-gate.ts). While the checkpointer holds it, the group
 * commit and the sliced writers wait (their callers' promises pending, the event loop free); nothing is
 * lost, and everything is written once it opens.
 */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { createDistributedRepo } from '../../../server/store/distributed.js';
import { createGroupCommit } from '../../../server/store/group-commit.js';
import { createHostRepo } from '../../../server/store/hosts.js';
import { createWriteGate, gatedWrite, writeGateOf } from '../../../server/store/write-gate.js';
import { slicedWriter } from '../../../server/store/write-slices.js';
import type { IngestBatch } from '../../../server/domain/types.js';
import { useTempSqlite } from '../../support/sqlite.js';
import { enrollRecord, T0 } from '../contract/support.js';

/** A few turns of the event loop and the group commit's window: long enough for an open gate to commit. */
const aWhile = () => new Promise((r) => setTimeout(r, 20));

describe('SQLite write gate', () => {
  const tmp = useTempSqlite('tg-gate');
  let other: Database.Database | undefined;
  afterEach(() => {
    writeGateOf(tmp.opened.sqlite).release();
    other?.close();
    other = undefined;
  });
  /** Rows of `t` a second connection sees (committed ones only). */
  const committed = (): number => {
    other ??= new Database(tmp.opened.sqlite.name, { readonly: true });
    return (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  };

  it('lets what waits for it go in order when released, and at once when open', async () => {
    const gate = createWriteGate();
    const order: string[] = [];
    await gate.opened().then(() => order.push('open: at once'));
    gate.hold();
    expect(gate.held).to.equal(true);
    const first = gate.opened().then(() => order.push('first'));
    const second = gate.opened().then(() => order.push('second'));
    await aWhile();
    expect(order).to.deep.equal(['open: at once']);
    gate.release();
    await Promise.all([first, second]);
    expect(gate.held).to.equal(false);
    expect(order).to.deep.equal(['open: at once', 'first', 'second']);
  });

  it('gatedWrite writes at once when open, and after the release when held', async () => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = gatedWrite(db, (n: number) => db.prepare('INSERT INTO t (n) VALUES (?)').run(n).changes);
    const now = insert(1);
    expect(committed()).to.equal(1); // open: written in the call, before any turn
    expect(await now).to.equal(1);
    writeGateOf(db).hold();
    const later = insert(2);
    await aWhile();
    expect(committed()).to.equal(1);
    writeGateOf(db).release();
    expect(await later).to.equal(1);
    expect(committed()).to.equal(2);
  });

  it('opens by itself after its longest hold, whoever forgot to release it', async () => {
    const gate = createWriteGate();
    gate.hold(1);
    await gate.opened();
    expect(gate.held).to.equal(false);
  });

  it('holds the group commit: a batch is committed and acknowledged only once the gate opens', async () => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    const ingest = createGroupCommit(
      db,
      (b: IngestBatch) => {
        insert.run(b.hostId);
        return { latest: [], skipped: 0, rowsApplied: 1 };
      },
      { queueMax: 10, fsync: false, syncWal: async () => undefined },
    );
    writeGateOf(db).hold();
    let acked = false;
    const done = ingest({ hostId: 7, receivedAt: 0, results: [], statuses: [] }).then(() => (acked = true));
    await aWhile();
    expect([committed(), acked]).to.deep.equal([0, false]);
    writeGateOf(db).release();
    await done;
    expect([committed(), acked]).to.deep.equal([1, true]);
  });

  it('holds a sliced write between its slices and before the first', async () => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    let t = 0;
    const write = slicedWriter(
      db,
      (n: number) => {
        t += 3; // two items per 5-ms slice
        insert.run(n);
        // the gate closes during the first slice: the second waits for it
        if (n === 1) writeGateOf(db).hold();
      },
      { sliceMs: 5, now: () => t },
    );
    const done = write([1, 2, 3, 4]);
    await aWhile();
    expect(committed()).to.equal(2);
    writeGateOf(db).release();
    await done;
    expect(committed()).to.equal(4);
  });

  it('holds handing out and completing distributed queries (a write per agent request)', async () => {
    const db = tmp.opened.sqlite;
    const { id } = (await createHostRepo(tmp.opened.db).enroll(enrollRecord('A'))).host;
    const repo = createDistributedRepo(db);
    const q = { id: 'q1', hostId: id, sql: 'SELECT 1', kind: 'recheck' as const, ref: 'disk', createdAt: T0 };
    await repo.enqueue([q]);
    writeGateOf(db).hold();
    const order: string[] = [];
    const taking = repo.takePending(id, T0 + 1, 60_000).then((qs) => order.push(`taken ${qs.length}`));
    await aWhile();
    order.push('released');
    writeGateOf(db).release();
    await taking;
    writeGateOf(db).hold();
    const completing = repo.complete(id, [{ id: 'q1', answer: { rows: [], status: 0, message: '' } }], T0 + 2);
    completing.then(
      () => order.push('completed'),
      () => order.push('failed'),
    );
    await aWhile();
    order.push('released again');
    writeGateOf(db).release();
    expect((await completing).map((c) => c?.id)).to.deep.equal(['q1']);
    expect(order).to.deep.equal(['released', 'taken 1', 'released again', 'completed']);
  });
});
