/**
 * The break-glass grant index: the active grants by (serial, user), so the verdict overlay is one map
 * lookup, and an empty index costs nothing. Grants come from the break-glass service (set at start,
 * then added or removed one by one); only `active` ones are kept.
 */
import type { BreakGlassGrant } from '../domain/types.js';
import { findGrant } from './verdict.js';

export interface GrantIndex {
  /** Counts every change (the bundle cache's key). */
  readonly changes: number;
  /** The active grant for this serial + user covering `tier` at `now` (findGrant). */
  find(serial: string, user: string, tier: string, now: number): BreakGlassGrant | undefined;
  /** Replaces every grant with the active ones of `list`. */
  replaceAll(list: readonly BreakGlassGrant[]): void;
  /** Adds or replaces a grant by id (one no longer active is removed). */
  add(grant: BreakGlassGrant): void;
  remove(id: string): void;
  all(): IterableIterator<readonly BreakGlassGrant[]>;
  count(): number;
}

const grantKey = (serial: string, user: string): string => `${serial}\u0000${user}`;

export function createGrantIndex(): GrantIndex {
  let byKey = new Map<string, BreakGlassGrant[]>();
  let changes = 0;

  function remove(id: string): void {
    for (const [k, list] of byKey) {
      const rest = list.filter((g) => g.id !== id);
      if (rest.length === list.length) continue;
      if (rest.length) byKey.set(k, rest);
      else byKey.delete(k);
      changes++;
    }
  }

  return {
    get changes() {
      return changes;
    },
    find(serial, user, tier, now) {
      return byKey.size > 0 ? findGrant(byKey.get(grantKey(serial, user)), serial, user, tier, now) : undefined;
    },
    replaceAll(list) {
      const next = new Map<string, BreakGlassGrant[]>();
      for (const g of list) {
        if (g.status !== 'active') continue;
        const k = grantKey(g.serial, g.user);
        const cur = next.get(k);
        if (cur) cur.push(g);
        else next.set(k, [g]);
      }
      byKey = next;
      changes++;
    },
    add(g) {
      remove(g.id);
      if (g.status !== 'active') return;
      const k = grantKey(g.serial, g.user);
      byKey.set(k, [...(byKey.get(k) ?? []), g]);
      changes++;
    },
    remove,
    all: () => byKey.values(),
    count() {
      let n = 0;
      for (const l of byKey.values()) n += l.length;
      return n;
    },
  };
}
