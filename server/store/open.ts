/**
 * Opens the SQLite database (better-sqlite3 + drizzle): WAL, foreign keys, synchronous=NORMAL, file mode
 * 0600, and the committed drizzle migrations from db/migrations applied at open.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };
export interface Opened {
  db: Db;
  sqlite: Database.Database;
}

/**
 * Database pages read through a memory map rather than one read() each (bytes mapped; SQLite's default
 * build caps it at 2 GB). Its page cache holds 2 MB, so at 100k hosts nearly every page an ingest write
 * touched was a pread: 3,300 a second on the event loop, each a system call of ~20 us on a virtual
 * machine. Pages of the write-ahead log are still read with pread.
 */
export const MMAP_BYTES = 2 ** 31 - 65536;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/**
 * Opens (creating if needed) the SQLite database, sets WAL + foreign keys, and applies migrations.
 * The connection runs with synchronous=NORMAL: in WAL mode every commit survives a process crash
 * (SIGKILL). Writes that osquery is told are durable (log and distributed-write batches) additionally
 * fsync (see group-commit.ts), so they survive power loss too without an fsync on every other write.
 */
export function openSqlite(file: string): Opened {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const sqlite = new Database(file);
  if (file !== ':memory:') fs.chmodSync(file, 0o600); // results and hashes: readable by the service user only
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  if (file !== ':memory:') sqlite.pragma(`mmap_size = ${MMAP_BYTES}`);
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db, sqlite };
}
