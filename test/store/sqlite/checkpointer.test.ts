/** SQLite only: WAL checkpoints on a worker thread (checkpointer.ts), not inside the event loop's commits. */
import { expect } from 'chai';
import fs from 'node:fs';
import { startCheckpointer, type Checkpointer } from '../../../server/store/checkpointer.js';
import { writeGateOf } from '../../../server/store/write-gate.js';
import { slicedWriter } from '../../../server/store/write-slices.js';
import { useTempSqlite } from '../../support/sqlite.js';

describe('SQLite WAL checkpointer (worker thread)', () => {
  const tmp = useTempSqlite('tg-ckpt');
  let cp: Checkpointer | undefined;
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
  });

  const fill = (pages: number) => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE IF NOT EXISTS blob (id INTEGER PRIMARY KEY, v BLOB)');
    const put = db.prepare('INSERT INTO blob (v) VALUES (?)');
    // one page-sized row per commit: `pages` commits of at least one new page each
    for (let i = 0; i < pages; i++) put.run(Buffer.alloc(4000, i));
  };
  const walBytes = () => fs.statSync(`${tmp.opened.sqlite.name}-wal`).size;

  it('turns the automatic checkpoint off: commits leave the log to the worker, which copies all of it', async () => {
    const db = tmp.opened.sqlite;
    cp = startCheckpointer(db, { everyMs: 3_600_000, onFailure: () => undefined });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(0);
    fill(1500);
    // past the automatic threshold (1,000 pages) and never checkpointed by a commit
    expect(walBytes()).to.be.above(1500 * 4096);
    const r = await cp.checkpoint();
    expect(r.log).to.be.above(1500);
    expect(r.checkpointed).to.equal(r.log);
    // the whole log is in the database: the next commit starts it over
    fill(1);
    expect((await cp.checkpoint()).log).to.be.below(10);
    expect((db.prepare('SELECT count(*) AS n FROM blob').get() as { n: number }).n).to.equal(1501);
  });

  it('starts the log over under continuous writes: they are held while a second pass copies the rest', async () => {
    const db = tmp.opened.sqlite;
    cp = startCheckpointer(db, { everyMs: 3_600_000, restartFrames: 8, onFailure: () => undefined });
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
    const put = db.prepare('INSERT OR REPLACE INTO t (id, v) VALUES (?, ?)');
    const write = slicedWriter(db, (i: number) => put.run(i % 500, Buffer.alloc(3000, i)));
    // a writer that never pauses: a commit lands while any checkpoint copies, so a PASSIVE one alone
    // never leaves the whole log checkpointed when the next write begins
    let writing = true;
    let held = 0;
    const writer = (async () => {
      for (let i = 0; writing; i += 8) {
        if (writeGateOf(db).held) held++;
        await write(Array.from({ length: 8 }, (_, k) => i + k));
        await new Promise((r) => setImmediate(r));
      }
    })();
    // the WAL header's checkpoint sequence number grows by one each time the log starts over
    const restarts = () => fs.readFileSync(`${db.name}-wal`).readUInt32BE(12);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const before = restarts();
      for (let k = 0; k < 3; k++) {
        await cp.checkpoint();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(restarts()).to.be.above(before);
      expect(held, 'the writer found the gate held').to.be.above(0);
      expect(writeGateOf(db).held).to.equal(false);
    } finally {
      writing = false;
      await writer;
    }
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).to.equal(500);
  });

  it('goes back to the automatic checkpoint and says so when the worker fails', async () => {
    const db = tmp.opened.sqlite;
    fs.rmSync(db.name); // the worker opens the file by name (it must exist): it fails at start
    const failure = new Promise<Error>((resolve) => {
      cp = startCheckpointer(db, { everyMs: 3_600_000, onFailure: resolve });
    });
    expect((await failure).message).to.match(/cannot open .*test\.db/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(1000);
    const err = await (cp as Checkpointer).checkpoint().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/not running/);
  });
});
