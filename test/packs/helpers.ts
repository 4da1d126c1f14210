import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '../../server/domain/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/packs/', import.meta.url));
export const BASELINE_DIR = fileURLToPath(new URL('../../packs/', import.meta.url));

/** A temporary directory with the given files; call `cleanup()` when done. */
export function tempDir(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-packs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function host(platform: Host['platform'], osPlatform: string): Pick<Host, 'platform' | 'osPlatform'> {
  return { platform, osPlatform };
}
