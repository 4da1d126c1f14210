/**
 * The SQLite CarveRepo: file carve sessions of a host and their blocks (stored as they arrive, duplicates
 * ignored); a session completes when every block is in, and its data is the blocks in block-id order.
 */
import type Database from 'better-sqlite3';
import type { Carve, CarveRepo } from '../domain/ports.js';
import { notFound } from '../shared/errors.js';
import { translated } from './errors.js';

interface CRow {
  session_id: string;
  host_id: number;
  carve_id: string;
  request_id: string;
  block_count: number;
  block_size: number;
  carve_size: number;
  blocks_received: number;
  created_at: number;
  completed_at: number | null;
}
const toCarve = (r: CRow): Carve => ({
  sessionId: r.session_id,
  hostId: r.host_id,
  carveId: r.carve_id,
  requestId: r.request_id,
  blockCount: r.block_count,
  blockSize: r.block_size,
  carveSize: r.carve_size,
  blocksReceived: r.blocks_received,
  createdAt: r.created_at,
  completedAt: r.completed_at,
});

export function createCarveRepo(sqlite: Database.Database): CarveRepo {
  const get = sqlite.prepare<[string], CRow>('SELECT * FROM carves WHERE session_id = ?');
  const ofHost = sqlite.prepare<[number, number], CRow>(
    'SELECT * FROM carves WHERE host_id = ? AND created_at >= ? ORDER BY created_at, session_id',
  );
  const insertBlock = sqlite.prepare(
    'INSERT OR IGNORE INTO carve_blocks (session_id, block_id, data) VALUES (?, ?, ?)',
  );
  const blockAt = sqlite.prepare<[string, number], { data: Buffer }>(
    'SELECT data FROM carve_blocks WHERE session_id = ? AND block_id = ?',
  );
  const bump = sqlite.prepare('UPDATE carves SET blocks_received = blocks_received + 1 WHERE session_id = ?');
  const finish = sqlite.prepare(
    'UPDATE carves SET completed_at = ? WHERE session_id = ? AND completed_at IS NULL' +
      ' AND blocks_received >= block_count',
  );
  const addBlock = sqlite.transaction((sessionId: string, blockId: number, data: Buffer, at: number) => {
    if (!get.get(sessionId)) throw notFound('carve session');
    if (insertBlock.run(sessionId, blockId, data).changes > 0) bump.run(sessionId);
    finish.run(at, sessionId);
    const after = get.get(sessionId); // the same transaction: still there
    if (!after) throw notFound('carve session');
    return toCarve(after);
  });
  const insert = sqlite.prepare<[Omit<Carve, 'blocksReceived' | 'completedAt'>]>(
    `INSERT INTO carves (session_id, host_id, carve_id, request_id, block_count, block_size, carve_size, created_at)
    VALUES (@sessionId, @hostId, @carveId, @requestId, @blockCount, @blockSize, @carveSize, @createdAt)`,
  );
  return {
    async begin(c) {
      translated(() => insert.run(c), {
        foreign_key: ['not_found', 'host not found'], // not enrolled, or unenrolled meanwhile
        unique: ['conflict', `carve session ${c.sessionId} already exists`],
      });
    },
    async get(sessionId) {
      const r = get.get(sessionId);
      return r ? toCarve(r) : undefined;
    },
    async addBlock(sessionId, blockId, data, at) {
      return addBlock.immediate(sessionId, blockId, data, at);
    },
    async data(sessionId) {
      const c = get.get(sessionId);
      if (!c || c.completed_at === null) return undefined;
      const blocks = sqlite
        .prepare<[string], { data: Buffer }>('SELECT data FROM carve_blocks WHERE session_id = ? ORDER BY block_id')
        .all(sessionId);
      return Buffer.concat(blocks.map((b) => b.data));
    },
    async blocks(sessionId) {
      const c = get.get(sessionId);
      if (!c || c.completed_at === null) return undefined;
      const count = c.block_count;
      // one short statement a block (an open iterator would hold the connection while the client reads)
      return (function* () {
        for (let i = 0; i < count; i++) {
          const b = blockAt.get(sessionId, i);
          if (!b) throw notFound(`carve block ${i}`);
          yield b.data;
        }
      })();
    },
    async ofHost(hostId, since) {
      return ofHost.all(hostId, since).map(toCarve);
    },
    async list() {
      return sqlite.prepare<[], CRow>('SELECT * FROM carves ORDER BY created_at DESC').all().map(toCarve);
    },
  };
}
