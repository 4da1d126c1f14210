/**
 * The last-seen registry (the LastSeen port of domain/ports.ts): one time per host, in memory, seeded
 * from the store at the warm start, marked by the osquery surface, read by verdicts, the admin API and
 * the CLI, and written back to the store in batches (`flush`, every second in the server). Only hosts
 * marked since the last flush are written.
 */
import type { HostRepo, LastSeen } from '../domain/ports.js';
import type { Host } from '../domain/types.js';

export interface LastSeenRegistry extends LastSeen {
  /** Seeds the times the store has (warm start, enrollment) without writing them back. */
  load(hosts: Iterable<Pick<Host, 'id' | 'lastSeenAt'>>): void;
  /** Forgets an unenrolled host. */
  forget(hostId: number): void;
  /** When `host` was last seen: this registry's time, else the host record's. */
  of(host: Pick<Host, 'id' | 'lastSeenAt'>): number;
  /** Writes the times marked since the last flush; returns how many hosts it wrote. */
  flush(): Promise<number>;
}

export function createLastSeen(deps: { hosts: Pick<HostRepo, 'touch'> }): LastSeenRegistry {
  const times = new Map<number, number>();
  let dirty = new Map<number, number>();

  function note(id: number, at: number): boolean {
    const prev = times.get(id);
    if (prev !== undefined && prev >= at) return false;
    times.set(id, at);
    return true;
  }

  return {
    mark(hostId, at) {
      if (note(hostId, at)) dirty.set(hostId, at);
    },
    get: (hostId) => times.get(hostId),
    load(hosts) {
      for (const h of hosts) note(h.id, h.lastSeenAt);
    },
    forget(hostId) {
      times.delete(hostId);
      dirty.delete(hostId);
    },
    of: (host) => Math.max(times.get(host.id) ?? host.lastSeenAt, host.lastSeenAt),
    async flush() {
      if (!dirty.size) return 0;
      const batch = [...dirty].map(([id, at]) => ({ id, at }));
      dirty = new Map();
      try {
        await deps.hosts.touch(batch);
      } catch (e) {
        // kept for the next flush (a later mark of the same host wins)
        for (const { id, at } of batch) if (!dirty.has(id) && times.has(id)) dirty.set(id, at);
        throw e;
      }
      return batch.length;
    },
  };
}
