/** Loads the osquery payload fixtures (copied from shared/fixtures/osquery; sources in their README). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/osquery', import.meta.url));
export const fixtureNames = (prefix: string): string[] =>
  fs
    .readdirSync(FIXTURES_DIR)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort();
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8')) as T;
}
export const fixtureText = (name: string): string => fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8');
