/**
 * The device's people (server/devices/people.ts, people-service.ts, logged-in.ts) as units: resolution
 * from owners, mappings and logged-in accounts, the configured rule, the index's lookups, the service
 * over fake repositories (store versions, audit), and the built-in queries against osquery's schema.
 */
import { expect } from 'chai';
import type { AccountMapping, AccountMappingRepo, AuditEvent } from '../../server/domain/ports.js';
import type { InventoryDevice, LatestResult } from '../../server/domain/types.js';
import {
  compileRule,
  createDevicePeopleIndex,
  indexMappings,
  mapAccount,
  normalizeAccount,
  resolvePeople,
} from '../../server/devices/people.js';
import { checkedMapping, createDevicePeopleService } from '../../server/devices/people-service.js';
import { accountsOf, DEVICE_USERS_QUERIES, deviceUsersPack } from '../../server/devices/logged-in.js';
import { validateSql } from '../../server/osquery-tables/tables.js';
import { ManualClock } from '../../server/shared/clock.js';
import { createLogger } from '../../server/shared/log.js';

const m = (account: string, person: string, serial: string | null = null) => ({ serial, account, person });

describe('devices/people: resolution', () => {
  const rule = compileRule('{account}@corp.example');

  it('unites owners, mappings scoped to the serial and mapped logged-in accounts, canonical and sorted', () => {
    const mappings = indexMappings([m('bob', 'bob@corp.example'), m('svc', 'erin@corp.example', 'S1')]);
    const people = resolvePeople('S1', {
      owners: ['Alice@Corp.Example ', 'not an address'],
      loggedIn: ['bob', 'stranger'],
      mappings,
      rule: null,
    });
    expect(people).to.deep.equal([
      { person: 'alice@corp.example', sources: ['owner'], accounts: [] },
      { person: 'bob@corp.example', sources: ['logged_in'], accounts: ['bob'] },
      { person: 'erin@corp.example', sources: ['mapping'], accounts: [] },
    ]);
  });

  it('maps an account by the serial’s mapping, else the every-device mapping, else the rule, else not at all', () => {
    const mappings = indexMappings([m('jo', 'jo.global@x.example'), m('jo', 'jo.here@x.example', 'S1')]);
    expect(mapAccount('S1', 'jo', mappings, rule)).to.deep.equal({
      account: 'jo',
      person: 'jo.here@x.example',
      via: 'serial_mapping',
    });
    expect(mapAccount('S2', 'jo', mappings, rule)).to.include({ person: 'jo.global@x.example', via: 'mapping' });
    expect(mapAccount('S2', 'kim', mappings, rule)).to.include({ person: 'kim@corp.example', via: 'rule' });
    expect(mapAccount('S2', 'kim', mappings, null)).to.include({ person: null, via: null });
  });

  it('never maps shared, system, domain-qualified or odd account names by the rule', () => {
    for (const account of ['root', 'administrator', 'guest', '_mbsetupuser', 'acme\\kim', 'kim smith', 'k@m'])
      expect(rule?.(account) ?? null, account).to.equal(null);
    expect(rule?.('kim.smith')).to.equal('kim.smith@corp.example');
  });

  it('normalizes account names (trimmed, lower-cased) and refuses empty, long and control characters', () => {
    expect(normalizeAccount('  Kim ')).to.equal('kim');
    expect(normalizeAccount('ACME\\Kim')).to.equal('acme\\kim');
    for (const bad of ['', '   ', 'a\u0000b', 'x'.repeat(300), null, undefined])
      expect(normalizeAccount(bad as string)).to.equal(null);
  });

  it('checks a mapping before it is stored: account, person as an address, serial present', () => {
    expect(checkedMapping({ account: ' Kim ', person: ' Kim@X.Example' })).to.deep.equal({
      serial: null,
      account: 'kim',
      person: 'kim@x.example',
    });
    expect(checkedMapping({ account: 'kim', person: 'kim@x.example', serial: 'S1' }).serial).to.equal('S1');
    expect(() => checkedMapping({ account: 'kim', person: 'kim' })).to.throw(/e-mail address/);
    expect(() => checkedMapping({ account: ' ', person: 'kim@x.example' })).to.throw(/account/);
    expect(() => checkedMapping({ account: 'kim', person: 'kim@x.example', serial: '{serial}' })).to.throw(/serial/);
  });
});

describe('devices/people: the index', () => {
  it("answers yes for one of the device's people, no for anyone else or no person, none without people", () => {
    const idx = createDevicePeopleIndex(null);
    expect(idx.match('S1', 'a@x.example')).to.equal('none');
    idx.setOwners(new Map([['S1', ['a@x.example']]]));
    expect(idx.match('S1', 'a@x.example')).to.equal('yes');
    expect(idx.match('S1', 'b@x.example')).to.equal('no');
    expect(idx.match('S1', null)).to.equal('no');
    expect(idx.match('S2', 'a@x.example')).to.equal('none');
  });

  it('follows logged-in snapshots and mapping changes (a logout or a removed mapping unpairs)', () => {
    const idx = createDevicePeopleIndex(null);
    idx.setLoggedIn('S1', ['Kim', 'kim', 'lee']);
    expect(idx.accountsOf('S1')).to.deep.equal([
      { account: 'kim', person: null, via: null },
      { account: 'lee', person: null, via: null },
    ]);
    expect(idx.match('S1', 'kim@x.example')).to.equal('none');
    idx.setMappings([m('kim', 'kim@x.example')]);
    expect(idx.match('S1', 'kim@x.example')).to.equal('yes');
    expect(idx.size()).to.equal(1);
    idx.setLoggedIn('S1', ['lee']);
    expect(idx.match('S1', 'kim@x.example')).to.equal('none');
    idx.setLoggedIn('S1', ['kim']);
    idx.setMappings([]);
    expect(idx.match('S1', 'kim@x.example')).to.equal('none');
  });
});

describe('devices/people-service (fake repositories)', () => {
  function fakes() {
    const settings = new Map<string, string>();
    const mappings = new Map<string, AccountMapping>();
    const key = (serial: string | null, account: string) => `${serial ?? ''}\u0000${account}`;
    const repo: AccountMappingRepo = {
      list: async () => [...mappings.values()],
      async put(x) {
        const prior = mappings.get(key(x.serial, x.account));
        mappings.set(key(x.serial, x.account), x);
        return prior;
      },
      async remove(serial, account) {
        const prior = mappings.get(key(serial, account));
        mappings.delete(key(serial, account));
        return prior;
      },
    };
    const inventory: InventoryDevice[] = [];
    const latest: LatestResult[] = [];
    const audit: AuditEvent[] = [];
    const store = {
      settings: {
        get: async (k: string) => settings.get(k),
        set: async (k: string, v: string) => void settings.set(k, v),
      },
      accountMappings: repo,
      inventory: { list: async () => inventory } as never,
      results: { latestForQueries: async () => latest } as never,
    };
    const svc = createDevicePeopleService({
      store,
      audit: { record: async (e) => void audit.push(e) },
      clock: new ManualClock(),
      log: createLogger('silent'),
    });
    return { svc, settings, inventory, latest, audit, repo };
  }
  const result = (hostId: number, queryKey: string, accounts: string[], error: string | null = null): LatestResult => ({
    hostId,
    queryKey,
    rows: accounts.map((account) => ({ account })),
    observedAt: 0,
    epoch: 0,
    counter: 0,
    error,
    updatedAt: 1,
    seq: 1,
  });

  it('loads owners, mappings and the stored logged-in answers of the built-in queries', async () => {
    const f = fakes();
    f.inventory.push({ serial: 'S1', owners: ['a@x.example'] } as InventoryDevice);
    f.latest.push(result(7, 'trustgate-device-users/device_users_linux', ['kim']));
    await f.repo.put({ ...m('kim', 'kim@x.example'), createdAt: 0, createdBy: 't' });
    await f.svc.load([{ id: 7, serial: 'S2' }]);
    expect(f.svc.match('S1', 'a@x.example')).to.equal('yes');
    expect(f.svc.match('S2', 'kim@x.example')).to.equal('yes');
  });

  it('reads only the built-in queries’ results, and keeps the last accounts when a run failed', async () => {
    const f = fakes();
    await f.svc.load([]);
    await f.svc.setMapping({ account: 'kim', person: 'kim@x.example' }, 'admin');
    f.svc.observe({ serial: 'S1' }, [result(1, 'other-pack/device_users_linux', ['kim'])]);
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('none');
    f.svc.observe({ serial: 'S1' }, [result(1, 'trustgate-device-users/device_users_darwin', ['kim'])]);
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('yes');
    f.svc.observe({ serial: 'S1' }, [result(1, 'trustgate-device-users/device_users_darwin', [], 'no such table')]);
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('yes');
  });

  it('audits mapping changes and picks up another process’s change on sync', async () => {
    const f = fakes();
    await f.svc.load([]);
    f.svc.observe({ serial: 'S1' }, [result(1, 'trustgate-device-users/device_users_darwin', ['kim'])]);
    const out = await f.svc.setMapping({ account: 'kim', person: 'kim@x.example', serial: 'S1' }, 'admin-token');
    expect(out.replaced).to.equal(null);
    await f.svc.removeMapping('S1', 'KIM', 'admin-token');
    expect(f.audit.map((e) => [e.type, e.actor, e.serial])).to.deep.equal([
      ['device.account_mapped', 'admin-token', 'S1'],
      ['device.account_unmapped', 'admin-token', 'S1'],
    ]);
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('none');
    // the CLI (another process) adds a mapping and bumps the version
    await f.repo.put({ ...m('kim', 'kim@x.example'), createdAt: 0, createdBy: 'cli' });
    await f.svc.sync();
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('none');
    f.settings.set('people.version', 'other');
    await f.svc.sync();
    expect(f.svc.match('S1', 'kim@x.example')).to.equal('yes');
    await f.svc.removeMapping(null, 'kim', 'admin').catch(() => undefined);
    expect(await f.svc.removeMapping(null, 'kim', 'admin').catch((e: Error) => e.message)).to.match(/not found/);
  });
});

describe('devices/logged-in: the built-in queries', () => {
  it('prepare against osquery 5.23.1’s tables on their platform, one per platform', () => {
    const platforms = Object.values(DEVICE_USERS_QUERIES).map((q) => q.platform);
    expect(platforms.sort()).to.deep.equal(['darwin', 'linux', 'windows']);
    for (const [name, q] of Object.entries(DEVICE_USERS_QUERIES))
      expect(validateSql(q.query, q.platform as 'darwin'), name).to.deep.equal({ ok: true });
  });

  it('are a snapshot pack every 5 minutes, and read the account column only from successful runs', () => {
    const pack = deviceUsersPack();
    for (const q of Object.values(pack.queries)) expect(q).to.include({ snapshot: true, interval: 300 });
    expect(accountsOf({ rows: [{ account: 'kim' }, { account: '' }, { user: 'x' }], error: null })).to.deep.equal([
      'kim',
    ]);
    expect(accountsOf({ rows: [], error: 'failed' })).to.equal(null);
  });
});
