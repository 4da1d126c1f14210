/** The SettingsRepo contract: string values by key that survive a restart. */
import { expect } from 'chai';
import { useStore, type StoreFactory } from './support.js';

export function settingsContract(factory: StoreFactory): void {
  describe('settings (SettingsRepo)', () => {
    const t = useStore(factory);

    it('get() returns undefined for a key never set', async () => {
      expect(await t.store.settings.get('link.hmac_key')).to.equal(undefined);
    });

    it('set() stores a value and a later set() replaces it', async () => {
      await t.store.settings.set('k', 'one');
      await t.store.settings.set('other', '');
      expect(await t.store.settings.get('k')).to.equal('one');
      await t.store.settings.set('k', 'two');
      expect(await t.store.settings.get('k')).to.equal('two');
      expect(await t.store.settings.get('other')).to.equal('');
    });

    it('keeps values across a reopen', async function () {
      await t.store.settings.set('first_start', '2026-11-27T12:00:00.000Z');
      const store = await t.reopen(this);
      expect(await store.settings.get('first_start')).to.equal('2026-11-27T12:00:00.000Z');
    });
  });
}
