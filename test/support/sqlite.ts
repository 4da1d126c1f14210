/** A real SQLite file in a fresh temp dir per test (migrations applied), removed after it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqlite, type Opened } from '../../server/store/open.js';
import { must } from './must.js';

export function useTempSqlite(prefix: string): { readonly opened: Opened; reopen(): void } {
  const holder: { dir?: string; opened?: Opened } = {};
  beforeEach(() => {
    holder.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    holder.opened = openSqlite(path.join(holder.dir, 'test.db'));
  });
  afterEach(() => {
    holder.opened?.sqlite.close();
    if (holder.dir) fs.rmSync(holder.dir, { recursive: true, force: true });
  });
  return {
    get opened() {
      return must(holder.opened, 'an open database (use it inside a test)');
    },
    /** Closes and opens the same file again (durability round trips). */
    reopen() {
      holder.opened?.sqlite.close();
      holder.opened = openSqlite(path.join(must(holder.dir, 'the test directory'), 'test.db'));
    },
  };
}
