/**
 * Which memory allocator this process runs on, for the start line and the bench: `npm start` preloads
 * jemalloc when it is installed (server/cli/start.sh), and a server launched another way may or may not.
 * Read from the process's memory map (Linux); elsewhere, and when the map cannot be read, `system`.
 */
import fs from 'node:fs';

export type Allocator = 'jemalloc' | 'system';

/** `maps`: a /proc/<pid>/maps file (this process's by default). */
export function allocatorOf(maps = '/proc/self/maps'): Allocator {
  try {
    return fs.readFileSync(maps, 'utf8').includes('/libjemalloc.so') ? 'jemalloc' : 'system';
  } catch {
    return 'system';
  }
}
