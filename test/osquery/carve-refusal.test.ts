/** Which carves may begin (the pure rule behind carve/begin; the real path is in carves.test.ts). */
import { expect } from 'chai';
import type { Carve, SentQuery } from '../../server/domain/ports.js';
import { carveRefusal, sendsKeyWithBlocks } from '../../server/osquery/carves.js';

const T = Date.UTC(2026, 10, 30, 12);
const sent = (id: string, sql: string, rows: unknown[] | null, answered = rows !== null): SentQuery => ({
  id,
  hostId: 1,
  sql,
  kind: 'live',
  ref: 'tg_live_x',
  createdAt: T,
  sentAt: T,
  completedAt: answered ? T + 1 : null,
  rows,
});
const begun = (carveId: string): Carve => ({
  sessionId: `s-${carveId}`,
  hostId: 1,
  carveId,
  requestId: 'r',
  blockCount: 1,
  blockSize: 8192,
  carveSize: 10,
  blocksReceived: 0,
  createdAt: T + 2,
  completedAt: null,
});
const CARVE = "SELECT * FROM carves WHERE carve=1 AND path='/etc/hosts'";

describe('carveRefusal: a carve begins only when Trustgate asked for it', () => {
  it('refuses when no live query of the host reads the carves table or calls carve()', () => {
    expect(carveRefusal([], [], 'g')).to.match(/no carve was asked/);
    expect(carveRefusal([sent('q', 'SELECT * FROM users', null)], [], 'g')).to.match(/no carve was asked/);
    expect(carveRefusal([sent('q', "SELECT carve(path) FROM file WHERE path='/x'", null)], [], 'g')).to.equal(
      undefined,
    );
  });

  it('lets each unanswered carve query start one carve that no answer lists', () => {
    const two = [sent('q1', CARVE, null), sent('q2', CARVE, null)];
    expect(carveRefusal(two, [begun('a')], 'b')).to.equal(undefined);
    expect(carveRefusal(two, [begun('a'), begun('b')], 'c')).to.match(/not one this host was asked for/);
  });

  it('after the answer, only the GUIDs it lists as scheduled (not finished or failed ones) begin', () => {
    const answered = sent('q', CARVE, [
      { carve_guid: 'new', status: 'SCHEDULED' },
      { carve_guid: 'done', status: 'SUCCESS' },
      { carve_guid: 'broken', status: 'DATA POST FAILED' },
      'not a row',
    ]);
    expect(carveRefusal([answered], [], 'new')).to.equal(undefined);
    expect(carveRefusal([answered], [], 'done')).to.match(/not one/);
    expect(carveRefusal([answered], [], 'broken')).to.match(/not one/);
    expect(carveRefusal([answered], [], 'other')).to.match(/not one/);
  });

  it('an answered query with an error lets no carve begin', () => {
    expect(carveRefusal([sent('q', CARVE, null, true)], [], 'g')).to.match(/not one/);
  });

  it('knows which osquery sends its node key with carve blocks (5.23 and later)', () => {
    expect(['5.23.0', '5.23.1', '5.24.0', '6.0.0'].map(sendsKeyWithBlocks)).to.deep.equal([true, true, true, true]);
    expect(['5.22.1', '5.0.1', '4.9.0', '', 'unknown'].map(sendsKeyWithBlocks)).to.deep.equal([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
