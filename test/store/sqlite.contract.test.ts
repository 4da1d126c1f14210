/** Runs the store contract against the SQLite store (createSqliteStore) on a file in a fresh temp dir. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../server/domain/ports.js';
import { createSqliteStore } from '../../server/store/index.js';
import { storeContract } from './contract/index.js';

storeContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-contract-'));
  const file = path.join(dir, 'trustgate.db');
  let store: Store = createSqliteStore(file);
  return {
    store,
    async reopen() {
      await store.close();
      store = createSqliteStore(file);
      return store;
    },
    async close() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
