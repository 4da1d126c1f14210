/**
 * The device's people as a service (issue #13): fills the in-memory index (people.ts) from the store at
 * start (inventory owners, the admin's account mappings, the last logged-in accounts each device reported),
 * keeps it current (results of the built-in queries as they arrive; mappings changed here at once, by
 * another process, the CLI, within a `sync`), and changes the mappings, each change audited. A change bumps
 * a version in the store; `sync` (every 2 s in the server) notices it, and the device service's version
 * (inventory imports and removals), and reloads owners and mappings.
 */
import type { AccountMapping, AuditRecorder, DevicePeopleLookup, Store } from '../domain/ports.js';
import type { Host, LatestResult } from '../domain/types.js';
import { canonicalPerson, MAX_IDENTITY_LENGTH, presentValue } from '../domain/identity.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { invalid, notFound } from '../shared/errors.js';
import { randomId } from '../shared/crypto.js';
import { accountsOf, DEVICE_USERS_KEYS } from './logged-in.js';
import {
  compileRule,
  createDevicePeopleIndex,
  normalizeAccount,
  type DevicePerson,
  type ObservedAccount,
} from './people.js';

/** The version this service bumps, and the device service's (an inventory change). */
const PEOPLE_VERSION = 'people.version';
const DEVICES_VERSION = 'devices.version';

export interface DevicePeopleDeps {
  store: Pick<Store, 'inventory' | 'accountMappings' | 'settings' | 'results'>;
  audit: Pick<AuditRecorder, 'record'>;
  /** The configured rule (`{account}@example.com`), or undefined. */
  rule?: string | undefined;
  clock: Clock;
  log: Logger;
}

export interface MappingInput {
  serial?: string | null | undefined;
  account: string;
  person: string;
}

export interface DevicePeopleService extends DevicePeopleLookup {
  /** Reads owners, mappings and the logged-in accounts of these hosts' latest results (once, before serving). */
  load(hosts: readonly Pick<Host, 'id' | 'serial'>[]): Promise<void>;
  /** Reloads owners and mappings when another process changed them. */
  sync(): Promise<void>;
  /** New latest results of a host: the built-in queries' answers replace its logged-in accounts. */
  observe(host: Pick<Host, 'serial'>, latest: readonly LatestResult[]): void;
  peopleOf(serial: string): DevicePerson[];
  accountsOf(serial: string): ObservedAccount[];
  listMappings(): Promise<AccountMapping[]>;
  setMapping(input: MappingInput, actor: string): Promise<{ mapping: AccountMapping; replaced: AccountMapping | null }>;
  removeMapping(serial: string | null, account: string, actor: string): Promise<AccountMapping>;
}

/** A mapping's fields checked and in canonical form (the API's schema checks shapes; this, meaning). */
export function checkedMapping(input: MappingInput): Pick<AccountMapping, 'serial' | 'account' | 'person'> {
  const account = normalizeAccount(input.account);
  if (account === null) throw invalid('account must be a local account name (1-256 characters, no control characters)');
  const person = canonicalPerson(input.person);
  if (person === null) throw invalid('person must be an e-mail address (the identity your SSO sends)');
  const serial = input.serial === null || input.serial === undefined ? null : presentValue(input.serial);
  if (input.serial !== null && input.serial !== undefined && (serial === null || serial.length > MAX_IDENTITY_LENGTH))
    throw invalid('serial must be a device serial number (omit it to map the account on every device)');
  return { serial, account, person };
}

/** What the mapping changes share: the dependencies, the index, the version bump. */
interface Ctx {
  deps: DevicePeopleDeps;
  index: ReturnType<typeof createDevicePeopleIndex>;
  bump(): Promise<void>;
}

async function setMapping(
  { deps, index, bump }: Ctx,
  input: MappingInput,
  actor: string,
): Promise<{ mapping: AccountMapping; replaced: AccountMapping | null }> {
  const { store, audit, clock } = deps;
  const m = checkedMapping(input);
  const mapping: AccountMapping = { ...m, createdAt: clock.now(), createdBy: actor };
  const replaced = (await store.accountMappings.put(mapping)) ?? null;
  await audit.record({
    type: 'device.account_mapped',
    actor,
    serial: m.serial,
    data: { account: m.account, person: m.person, every_device: m.serial === null, replaced: replaced?.person ?? null },
  });
  await bump();
  index.setMappings(await store.accountMappings.list());
  return { mapping, replaced };
}

async function removeMapping(
  { deps, index, bump }: Ctx,
  serial: string | null,
  account: string,
  actor: string,
): Promise<AccountMapping> {
  const { store, audit } = deps;
  const a = normalizeAccount(account);
  const s = serial === null ? null : presentValue(serial);
  const gone = a === null ? undefined : await store.accountMappings.remove(s, a);
  if (!gone) throw notFound(`mapping of account "${account}"${s === null ? ' on every device' : ` on ${s}`}`);
  await audit.record({
    type: 'device.account_unmapped',
    actor,
    serial: gone.serial,
    data: { account: gone.account, person: gone.person, every_device: gone.serial === null },
  });
  await bump();
  index.setMappings(await store.accountMappings.list());
  return gone;
}

export function createDevicePeopleService(deps: DevicePeopleDeps): DevicePeopleService {
  const { store, log } = deps;
  const index = createDevicePeopleIndex(compileRule(deps.rule));
  let seen: [string | undefined, string | undefined] = [undefined, undefined];

  const versions = async (): Promise<[string | undefined, string | undefined]> => [
    await store.settings.get(PEOPLE_VERSION),
    await store.settings.get(DEVICES_VERSION),
  ];

  async function reload(): Promise<void> {
    const owners = new Map<string, string[]>();
    for (const d of await store.inventory.list()) if (d.owners.length) owners.set(d.serial, d.owners);
    index.setOwners(owners);
    index.setMappings(await store.accountMappings.list());
  }

  async function bump(): Promise<void> {
    const v = randomId(8);
    await store.settings.set(PEOPLE_VERSION, v);
    seen = [v, seen[1]];
  }

  const ctx: Ctx = { deps, index, bump };

  function observe(host: Pick<Host, 'serial'>, latest: readonly LatestResult[]): void {
    for (const r of latest) {
      if (!DEVICE_USERS_KEYS.has(r.queryKey)) continue;
      const accounts = accountsOf(r);
      if (accounts !== null) index.setLoggedIn(host.serial, accounts);
    }
  }

  return {
    match: (serial, person) => index.match(serial, person),
    peopleOf: (serial) => index.peopleOf(serial),
    accountsOf: (serial) => index.accountsOf(serial),
    observe,

    async load(hosts) {
      seen = await versions();
      await reload();
      const serialOf = new Map(hosts.map((h) => [h.id, h.serial]));
      const latest = await store.results.latestForQueries([...DEVICE_USERS_KEYS]);
      // oldest first, so a host that moved between platforms ends with its latest answer
      latest.sort((a, b) => a.updatedAt - b.updatedAt);
      for (const r of latest) {
        const serial = serialOf.get(r.hostId);
        if (serial !== undefined) observe({ serial }, [r]);
      }
      log.info({ event: 'people.loaded', devices: index.size() }, 'device people loaded');
    },

    async sync() {
      const now = await versions();
      if (now[0] === seen[0] && now[1] === seen[1]) return;
      seen = now;
      await reload();
    },

    listMappings: () => store.accountMappings.list(),

    setMapping: (input, actor) => setMapping(ctx, input, actor),
    removeMapping: (serial, account, actor) => removeMapping(ctx, serial, account, actor),
  };
}
