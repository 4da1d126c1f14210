/**
 * The last-seen registry (the LastSeen port of domain/ports.ts): one time per host, in memory, seeded
 * from the store at the warm start, marked by the osquery surface, read by verdicts, the admin API and
 * the CLI, and written back to the store in batches (`flush`, every second in the server). Only hosts
 * marked since the last flush are written.
 *
 * The times are kept in a typed array indexed by host id (ids are the store's row ids, 1, 2, 3, …): a
 * verdict reads one slot instead of looking the id up in a 100,000-entry map whose every value was a
 * separately allocated number, and a mark writes a slot instead of allocating one. An id outside the
 * array's range (never in practice) is kept in a map.
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

/** Host ids below this are kept in the typed array (8 bytes each, allocated as ids grow). */
const DENSE_IDS = 1 << 24;

/** One time per host id; NaN in the array is "none". */
function createTimes() {
  let dense = new Float64Array(1024).fill(NaN);
  const sparse = new Map<number, number>();
  const isDense = (id: number): boolean => Number.isInteger(id) && id >= 0 && id < DENSE_IDS;
  function grow(id: number): void {
    const next = new Float64Array(Math.min(DENSE_IDS, Math.max(dense.length * 2, id + 1))).fill(NaN);
    next.set(dense);
    dense = next;
  }
  return {
    get(id: number): number | undefined {
      if (!isDense(id)) return sparse.get(id);
      const at = id < dense.length ? (dense[id] as number) : NaN;
      return Number.isNaN(at) ? undefined : at;
    },
    set(id: number, at: number): void {
      if (!isDense(id)) sparse.set(id, at);
      else {
        if (id >= dense.length) grow(id);
        dense[id] = at;
      }
    },
    delete(id: number): void {
      if (!isDense(id)) sparse.delete(id);
      else if (id < dense.length) dense[id] = NaN;
    },
  };
}

export function createLastSeen(deps: { hosts: Pick<HostRepo, 'touch'> }): LastSeenRegistry {
  const times = createTimes();
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
        for (const { id, at } of batch) if (!dirty.has(id) && times.get(id) !== undefined) dirty.set(id, at);
        throw e;
      }
      return batch.length;
    },
  };
}
