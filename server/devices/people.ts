/**
 * The device's people (issue #13): who may use a device, as the union of
 * (a) the inventory's owners of its serial,
 * (b) the admin's account mappings scoped to that serial (an explicit pairing), and
 * (c) the local accounts osquery last reported as logged in on it, each mapped to a person by the admin's
 *     mapping for that serial, else the admin's mapping for every device, else the configured rule
 *     (`{account}@example.com`); an account none of these maps is no person (nothing is guessed).
 * Everyone is in the canonical form (domain/identity.ts). The index keeps the resolved set per serial in
 * memory, so the verdict lookup asks one Map and one Set (`match`). Pure: no I/O, no clock.
 */
import type { AccountMapping, DevicePeopleLookup, PersonMatch } from '../domain/ports.js';
import { canonicalPerson, MAX_IDENTITY_LENGTH } from '../domain/identity.js';

/** Where a person of a device comes from. */
export type PersonSource = 'owner' | 'mapping' | 'logged_in';

export interface DevicePerson {
  person: string;
  sources: PersonSource[];
  /** The logged-in accounts that map to this person. */
  accounts: string[];
}

/** An account osquery reported as logged in, and the person it maps to (null: not mapped). */
export interface ObservedAccount {
  account: string;
  person: string | null;
  via: 'serial_mapping' | 'mapping' | 'rule' | null;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A local account name as compared: trimmed and lower-cased; null when empty, too long or with control characters. */
export function normalizeAccount(raw: string | null | undefined): string | null {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v.length > MAX_IDENTITY_LENGTH || CONTROL.test(v)) return null;
  return v;
}

/** Accounts the rule never maps: they are shared or system accounts, never one person's. */
const SYSTEM_ACCOUNTS = new Set([
  'root',
  'admin',
  'administrator',
  'guest',
  'system',
  'daemon',
  'nobody',
  'defaultaccount',
  'wdagutilityaccount',
]);
/** What the rule maps: a plain account name (no domain part, no spaces, not a `_` system account). */
const RULE_ACCOUNT = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The configured rule, or null. `template` holds `{account}` once (checked by the config schema). */
export type AccountRule = ((account: string) => string | null) | null;

export function compileRule(template: string | undefined): AccountRule {
  if (!template) return null;
  return (account) =>
    RULE_ACCOUNT.test(account) && !SYSTEM_ACCOUNTS.has(account)
      ? canonicalPerson(template.replace('{account}', account))
      : null;
}

/** The admin's mappings indexed: per serial, and for every device. */
export interface MappingIndex {
  bySerial: Map<string, Map<string, string>>;
  global: Map<string, string>;
}

export function indexMappings(list: readonly Pick<AccountMapping, 'serial' | 'account' | 'person'>[]): MappingIndex {
  const bySerial = new Map<string, Map<string, string>>();
  const global = new Map<string, string>();
  for (const m of list) {
    if (m.serial === null) global.set(m.account, m.person);
    else {
      let per = bySerial.get(m.serial);
      if (!per) bySerial.set(m.serial, (per = new Map()));
      per.set(m.account, m.person);
    }
  }
  return { bySerial, global };
}

/** The person a logged-in account maps to on this device, and by what. */
export function mapAccount(
  serial: string,
  account: string,
  mappings: MappingIndex,
  rule: AccountRule,
): ObservedAccount {
  const scoped = mappings.bySerial.get(serial)?.get(account);
  if (scoped !== undefined) return { account, person: scoped, via: 'serial_mapping' };
  const global = mappings.global.get(account);
  if (global !== undefined) return { account, person: global, via: 'mapping' };
  const ruled = rule ? rule(account) : null;
  return ruled ? { account, person: ruled, via: 'rule' } : { account, person: null, via: null };
}

export interface PeopleSources {
  owners: readonly string[];
  loggedIn: readonly string[];
  mappings: MappingIndex;
  rule: AccountRule;
}

/** The device's people with where each comes from, sorted by person. */
export function resolvePeople(serial: string, s: PeopleSources): DevicePerson[] {
  const out = new Map<string, DevicePerson>();
  const add = (person: string, source: PersonSource, account?: string): void => {
    let p = out.get(person);
    if (!p) out.set(person, (p = { person, sources: [], accounts: [] }));
    if (!p.sources.includes(source)) p.sources.push(source);
    if (account !== undefined && !p.accounts.includes(account)) p.accounts.push(account);
  };
  for (const o of s.owners) {
    const p = canonicalPerson(o);
    if (p) add(p, 'owner');
  }
  for (const person of s.mappings.bySerial.get(serial)?.values() ?? []) add(person, 'mapping');
  for (const account of s.loggedIn) {
    const m = mapAccount(serial, account, s.mappings, s.rule);
    if (m.person) add(m.person, 'logged_in', account);
  }
  return [...out.values()].sort((a, b) => a.person.localeCompare(b.person));
}

/** The in-memory index: sources per serial in, the resolved set per serial out. */
export interface DevicePeopleIndex extends DevicePeopleLookup {
  /** Replaces every serial's owners (the inventory). */
  setOwners(owners: ReadonlyMap<string, readonly string[]>): void;
  /** Replaces the admin's mappings (every serial is resolved again). */
  setMappings(list: readonly Pick<AccountMapping, 'serial' | 'account' | 'person'>[]): void;
  /** The accounts osquery reported as logged in on a serial (its latest snapshot). */
  setLoggedIn(serial: string, accounts: readonly string[]): void;
  /** The device's people with their sources. */
  peopleOf(serial: string): DevicePerson[];
  /** The logged-in accounts last reported, each with the person it maps to (or null). */
  accountsOf(serial: string): ObservedAccount[];
  /** Serials with at least one known person. */
  size(): number;
}

export function createDevicePeopleIndex(rule: AccountRule): DevicePeopleIndex {
  let owners: ReadonlyMap<string, readonly string[]> = new Map();
  let mappings: MappingIndex = indexMappings([]);
  const loggedIn = new Map<string, readonly string[]>();
  let resolved = new Map<string, ReadonlySet<string>>();

  const sourcesOf = (serial: string): PeopleSources => ({
    owners: owners.get(serial) ?? [],
    loggedIn: loggedIn.get(serial) ?? [],
    mappings,
    rule,
  });
  function resolveOne(serial: string, into: Map<string, ReadonlySet<string>>): void {
    const people = resolvePeople(serial, sourcesOf(serial));
    if (people.length) into.set(serial, new Set(people.map((p) => p.person)));
    else into.delete(serial);
  }
  function resolveAll(): void {
    const next = new Map<string, ReadonlySet<string>>();
    const serials = new Set([...owners.keys(), ...loggedIn.keys(), ...mappings.bySerial.keys()]);
    for (const serial of serials) resolveOne(serial, next);
    resolved = next; // swapped whole: a lookup never sees half an update
  }

  return {
    match(serial, person): PersonMatch {
      const set = resolved.get(serial);
      if (!set) return 'none';
      return person !== null && set.has(person) ? 'yes' : 'no';
    },
    setOwners(next) {
      owners = next;
      resolveAll();
    },
    setMappings(list) {
      mappings = indexMappings(list);
      resolveAll();
    },
    setLoggedIn(serial, accounts) {
      const list = [...new Set(accounts.map(normalizeAccount).filter((a): a is string => a !== null))].sort();
      if (list.length) loggedIn.set(serial, list);
      else loggedIn.delete(serial);
      resolveOne(serial, resolved);
    },
    peopleOf: (serial) => resolvePeople(serial, sourcesOf(serial)),
    accountsOf: (serial) => (loggedIn.get(serial) ?? []).map((a) => mapAccount(serial, a, mappings, rule)),
    size: () => resolved.size,
  };
}
