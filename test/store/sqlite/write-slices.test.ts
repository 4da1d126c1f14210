/** SQLite only: long writes cut into slices of work (write-slices.ts), with the event loop served between. */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { slicedWriter } from '../../../server/store/write-slices.js';
import { useTempSqlite } from '../../support/sqlite.js';

describe('SQLite sliced writes (slicedWriter)', () => {
  const tmp = useTempSqlite('tg-slices');

  it('writes every item, one transaction per slice of work, serving the event loop between slices', async () => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    // a second connection sees committed rows only: what it counts between slices was committed by then
    const other = new Database(db.name, { readonly: true });
    const committed = () => (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    let t = 0;
    const order: string[] = [];
    const write = slicedWriter(
      db,
      (n: number) => {
        t += 2; // each item "takes" 2 ms of a 5 ms slice: 3 per transaction
        insert.run(n);
        if (n === 1 || n === 4) setImmediate(() => order.push(`between slices: ${committed()} committed`));
        order.push(db.inTransaction ? `write ${n}` : `write ${n} outside a transaction`);
      },
      { sliceMs: 5, now: () => t },
    );
    try {
      await write([1, 2, 3, 4, 5, 6, 7]);
      expect(order).to.deep.equal([
        ...['write 1', 'write 2', 'write 3'],
        'between slices: 3 committed',
        ...['write 4', 'write 5', 'write 6'],
        'between slices: 6 committed',
        'write 7',
      ]);
      expect(committed()).to.equal(7);
    } finally {
      other.close();
    }
  });

  it('writes a slow item alone and an empty list not at all', async () => {
    const db = tmp.opened.sqlite;
    db.exec('CREATE TABLE t (n INTEGER)');
    let t = 0;
    const seen: Array<[number, boolean]> = [];
    const write = slicedWriter(
      db,
      (n: number) => {
        t += 10; // longer than the slice: still one item per transaction, never none
        seen.push([n, db.inTransaction]);
      },
      { sliceMs: 5, now: () => t },
    );
    await write([]);
    await write([1, 2]);
    expect(seen).to.deep.equal([
      [1, true],
      [2, true],
    ]);
  });
});
