/**
 * The store contract (after Lucia's adapter-test): one suite per port of server/domain/ports.ts, each a
 * function of a store factory. Every Store implementation runs `storeContract` with its own factory
 * (test/store/sqlite.contract.test.ts today); what only one implementation promises (SQLite's WAL flush,
 * its query plans, its migrations) is tested beside it, not here.
 */
import { expect } from 'chai';
import { auditContract } from './audit.js';
import { breakGlassContract } from './break-glass.js';
import { carvesContract } from './carves.js';
import { checkStatesContract } from './check-states.js';
import { credentialsContract } from './credentials.js';
import { devicesContract } from './devices.js';
import { distributedContract } from './distributed.js';
import { hostsContract } from './hosts.js';
import { resultsContract } from './results.js';
import { settingsContract } from './settings.js';
import { useStore, type StoreFactory } from './support.js';

export type { StoreFactory, StoreHandle } from './support.js';

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    hostsContract(factory);
    credentialsContract(factory);
    resultsContract(factory);
    checkStatesContract(factory);
    distributedContract(factory);
    carvesContract(factory);
    breakGlassContract(factory);
    auditContract(factory);
    settingsContract(factory);
    devicesContract(factory);

    describe('the store (Store)', () => {
      const t = useStore(factory);

      it('ping() answers true while open, false once closed; close() may be called twice', async () => {
        expect(await t.store.ping()).to.equal(true);
        await t.store.close();
        expect(await t.store.ping()).to.equal(false);
        await t.store.close();
      });
    });
  });
}
