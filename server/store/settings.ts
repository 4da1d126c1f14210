/** SettingsRepo: key/value settings that survive restarts (link key marker, watermarks, first start). */
import type Database from 'better-sqlite3';
import type { SettingsRepo } from '../domain/ports.js';

export function createSettingsRepo(sqlite: Database.Database): SettingsRepo {
  const get = sqlite.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const set = sqlite.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    async get(key) {
      return get.get(key)?.value;
    },
    async set(key, value) {
      set.run(key, value);
    },
  };
}
