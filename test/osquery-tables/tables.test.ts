import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { compareVersions, osquerySplit } from '../../server/osquery-tables/functions.js';
import {
  allTableSpecs,
  createTablesDb,
  prepareOsquerySql,
  stripOsqueryCollations,
  tablesFor,
  validateSql,
} from '../../server/osquery-tables/tables.js';
import { importFleetPolicies } from '../../server/packs/fleet-import.js';
import { loadPacksDir } from '../../server/packs/load.js';
import { familiesOf, intersectPlatforms } from '../../server/packs/platform.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/packs/', import.meta.url));

describe('tablesFor', () => {
  it("returns the tables osquery registers on each platform, per the schema's platform lists", () => {
    const all = allTableSpecs();
    expect(all.length).to.equal(286);
    for (const p of ['darwin', 'linux', 'windows'] as const) {
      const names = tablesFor(p).map((t) => t.name);
      expect(names).to.include.members(['os_version', 'osquery_info', 'system_info', 'processes', 'time']);
      expect(names.length).to.equal(all.filter((t) => t.platforms.includes(p)).length);
    }
    expect(tablesFor('darwin').map((t) => t.name)).to.include.members([
      'alf',
      'sip_config',
      'gatekeeper',
      'sharing_preferences',
    ]);
    expect(tablesFor('windows').map((t) => t.name))
      .to.include.members(['bitlocker_info', 'registry', 'windows_security_center'])
      .and.not.include('alf');
    expect(tablesFor('linux').map((t) => t.name))
      .to.include.members(['systemd_units', 'iptables', 'deb_packages'])
      .and.not.include('registry');
    expect(tablesFor('freebsd')).to.deep.equal([]);
    expect(tablesFor('unknown')).to.deep.equal([]);
  });

  it('describes columns with their types and flags', () => {
    const file = tablesFor('darwin').find((t) => t.name === 'file');
    expect(file?.columns.find((c) => c.name === 'path')).to.include({ type: 'TEXT', required: true });
    const time = tablesFor('linux').find((t) => t.name === 'time');
    expect(time?.columns.find((c) => c.name === 'datetime')?.aliases).to.deep.equal(['date_time']);
  });
});

describe('createTablesDb', () => {
  it('creates one empty table per osquery table with typed columns', () => {
    const db = createTablesDb('windows');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    expect(tables.length).to.equal(tablesFor('windows').length);
    const cols = db.prepare("SELECT name, type FROM pragma_table_info('bitlocker_info')").all() as Array<{
      name: string;
      type: string;
    }>;
    expect(cols).to.deep.include({ name: 'protection_status', type: 'INTEGER' });
    expect(cols).to.deep.include({ name: 'drive_letter', type: 'TEXT' });
    expect(db.prepare('SELECT count(*) AS n FROM bitlocker_info').get()).to.deep.equal({ n: 0 });
  });

  it('lets a simulator fill the tables and run real queries, with column aliases and table aliases', () => {
    const db = createTablesDb('linux');
    db.prepare('INSERT INTO time (datetime, unix_time) VALUES (?, ?)').run('2026-11-27T12:00:00Z', 1795780800);
    expect(db.prepare('SELECT date_time, unix_time FROM time').get()).to.deep.equal({
      date_time: '2026-11-27T12:00:00Z',
      unix_time: 1795780800,
    });
    db.prepare("INSERT INTO etc_hosts (address, hostnames) VALUES ('127.0.0.1', 'localhost')").run();
    expect(db.prepare('SELECT hostnames FROM hosts').get()).to.deep.equal({ hostnames: 'localhost' });
  });

  it('adds the tables to a database the caller passes', () => {
    const mine = new Database(':memory:');
    mine.exec('CREATE TABLE sim_meta (k TEXT)');
    const db = createTablesDb('darwin', mine);
    expect(db).to.equal(mine);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('sim_meta', 'alf')").get()).to.deep.equal(
      { n: 2 },
    );
  });
});

describe('validateSql', () => {
  const cases: Array<[string, 'darwin' | 'linux' | 'windows', string | null]> = [
    ['SELECT * FROM time;', 'darwin', null],
    ["select version from os_version where version collate version >= '14.4'", 'darwin', null],
    ['SELECT global_state FROM alf', 'darwin', null],
    ['SELECT global_state FROM alf', 'linux', 'no such table: alf'],
    ['SELECT nope FROM os_version', 'windows', 'no such column: nope'],
    ['SELEC 1', 'linux', 'syntax error'],
    ['SELECT magic(1)', 'linux', 'no such function: magic'],
    ['DROP TABLE processes', 'linux', 'not a query that returns rows'],
    ['SELECT 1; SELECT 2', 'linux', 'more than one statement'],
    ['', 'linux', 'empty query'],
    ['SELECT 1 FROM disk_encryption WHERE user_uuid IS NOT "" AND filevault_status = \'on\'', 'darwin', null],
    ["SELECT split(path, '/', 0), regex_match(cmdline, '([a-z]+)', 1), environment FROM process_events", 'linux', null],
  ];
  for (const [sql, platform, error] of cases) {
    it(`${error === null ? 'accepts' : `refuses (${error})`} ${JSON.stringify(sql)} on ${platform}`, () => {
      const v = validateSql(sql, platform);
      if (error === null) expect(v).to.deep.equal({ ok: true });
      else {
        expect(v.ok).to.equal(false);
        if (!v.ok) expect(v.error).to.include(error);
      }
    });
  }

  it("validates osquery's example packs and Fleet's policies on their platforms, except tables osquery dropped", () => {
    const packs = [
      ...loadPacksDir(join(FIXTURES, 'osquery-packs')).packs,
      importFleetPolicies(readFileSync(join(FIXTURES, 'fleet', 'standard-query-library.yml'), 'utf8')),
    ];
    const failures: string[] = [];
    let validated = 0;
    for (const p of packs) {
      for (const [name, q] of Object.entries(p.queries)) {
        for (const platform of familiesOf(intersectPlatforms(p.platform, q.platform))) {
          if (platform === 'freebsd') continue;
          const v = validateSql(q.query, platform);
          validated++;
          if (!v.ok) failures.push(`${p.name}/${name} on ${platform}: ${v.error}`);
        }
      }
    }
    expect(validated).to.be.greaterThan(400);
    expect(failures).to.deep.equal([
      // it-compliance has no platform on this query: real osqueryd on Windows fails it the same way
      'it-compliance/mounts on windows: no such table: mounts',
      // opera_extensions was removed from osquery; the unmaintained example pack still names it
      'vuln-management/opera_extensions on darwin: no such table: opera_extensions',
      'vuln-management/opera_extensions on linux: no such table: opera_extensions',
      // Fleet's mdm table comes from the fleetd extension, not osquery core
      'fleet-policies/mdm_enrolled_macos on darwin: no such table: mdm',
    ]);
  });
});

describe('osquery SQL functions', () => {
  const db = createTablesDb('linux');
  const one = (sql: string, ...args: unknown[]): unknown =>
    Object.values(db.prepare(sql).get(...args) as Record<string, unknown>)[0];

  it('split(): splits on any of the token characters, skips empty pieces, trims, and indexes', () => {
    expect(one("SELECT split('192.168.0.1', '.', 1)")).to.equal('168');
    expect(one("SELECT split('192.168.0.1', '.0', 0)")).to.equal('192');
    expect(one("SELECT split('a,,b', ',', 1)")).to.equal('b');
    expect(one("SELECT split(' a , b ', ',', 1)")).to.equal('b');
    expect(one("SELECT split('a.b', '.', 5)")).to.equal(null);
    expect(one("SELECT split(NULL, '.', 0)")).to.equal(null);
    expect(() => one("SELECT split('a', '', 0)")).to.throw(/Invalid input to split function/);
    expect(osquerySplit('x::y', ':')).to.deep.equal(['x', 'y']);
  });

  it('regex_split() and regex_match(): ECMAScript regexes, index 0 = whole match', () => {
    expect(one("SELECT regex_split('192.168.0.1', '\\.', 1)")).to.equal('168');
    expect(one("SELECT regex_split('192.168.0.1', '\\.0', 0)")).to.equal('192.168');
    expect(one("SELECT regex_match('Darwin 23.4.0', '([0-9]+)\\.([0-9]+)', 2)")).to.equal('4');
    expect(one("SELECT regex_match('Darwin 23.4.0', '([0-9]+)\\.([0-9]+)', 0)")).to.equal('23.4');
    expect(one("SELECT regex_match('abc', '[0-9]', 0)")).to.equal(null);
    expect(() => one("SELECT regex_match('abc', '(', 0)")).to.throw(/Invalid regex/);
    expect(() => one('SELECT regex_match(?, ?, 0)', 'a', 'a'.repeat(300))).to.throw(/too big/);
  });

  it("concat() and concat_ws(): NULLs skipped, with osquery's separator quirk", () => {
    expect(one("SELECT concat('a', NULL, 'b', 1)")).to.equal('ab1');
    expect(one("SELECT concat_ws('-', 'a', 'b', 'c')")).to.equal('a-b-c');
    expect(one("SELECT concat_ws('-', 'a', NULL)")).to.equal('a-');
  });

  it('inet_aton() and in_cidr_block()', () => {
    expect(one("SELECT inet_aton('10.0.0.1')")).to.equal(167772161);
    expect(one("SELECT inet_aton('::1')")).to.equal(null);
    expect(one("SELECT inet_aton('10.0.0')")).to.equal(null);
    expect(one("SELECT in_cidr_block('10.0.0.0/8', '10.1.2.3')")).to.equal(1);
    expect(one("SELECT in_cidr_block('10.0.0.0/8', '11.0.0.1')")).to.equal(0);
    expect(one("SELECT in_cidr_block('192.168.1.0/24', '192.168.1.255')")).to.equal(0); // broadcast is not a host
    expect(one("SELECT in_cidr_block('192.168.1.7/32', '192.168.1.7')")).to.equal(1);
    expect(one("SELECT in_cidr_block('2001:db8::/32', '2001:db8::1')")).to.equal(1);
    expect(one("SELECT in_cidr_block('2001:db8::/32', '2001:db9::1')")).to.equal(0);
    expect(one("SELECT in_cidr_block('::ffff:0:0/96', '::ffff:10.0.0.1')")).to.equal(1);
    expect(() => one("SELECT in_cidr_block('10.0.0.0', '10.0.0.1')")).to.throw(
      /CIDR for IP address v4 cannot be parsed/,
    );
  });

  it('hashes and base64 as osquery computes them', () => {
    expect(one("SELECT sha256('abc')")).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(one("SELECT sha1('abc')")).to.equal('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(one("SELECT md5('abc')")).to.equal('900150983cd24fb0d6963f7d28e17f72');
    expect(one("SELECT to_base64('osquery')")).to.equal('b3NxdWVyeQ==');
    expect(one("SELECT from_base64('b3NxdWVyeQ==')")).to.equal('osquery');
    expect(one("SELECT conditional_to_base64('plain')")).to.equal('plain');
    expect(one('SELECT conditional_to_base64(char(1, 65))')).to.equal('AUE=');
  });

  it('parent_directory() uses the platform separator', () => {
    expect(one("SELECT parent_directory('/usr/bin/ssh')")).to.equal('/usr/bin');
    expect(one("SELECT parent_directory('ssh')")).to.equal(null);
    const win = createTablesDb('windows');
    expect(
      Object.values(win.prepare("SELECT parent_directory('C:\\Windows\\notepad.exe') AS d").get() as object)[0],
    ).to.equal('C:\\Windows');
  });

  it("version_compare() and compareVersions follow osquery's version collations", () => {
    expect(one("SELECT version_compare('14.4.1', '14.4')")).to.equal(1);
    expect(one("SELECT version_compare('1.10.0', '1.9.0')")).to.equal(1);
    expect(one("SELECT version_compare('5.12.0', '5.12.0')")).to.equal(0);
    expect(one("SELECT version_compare('1:1.0', '2.0', 'version_dpkg')")).to.equal(1); // an epoch wins
    expect(compareVersions('1.0~rc1', '1.0', 'version_arch')).to.be.lessThan(0);
    expect(compareVersions('1.0^post', '1.0', 'version_rhel')).to.be.greaterThan(0);
    expect(() => one("SELECT version_compare('1', '2', 'nope')")).to.throw(/unknown collation/);
  });

  it('sleep() returns at once (the simulator stays fast)', () => {
    expect(one('SELECT sleep(30)')).to.equal(30);
  });
});

describe('stripOsqueryCollations and prepareOsquerySql', () => {
  it('removes osquery collations but not text inside strings or identifiers', () => {
    expect(stripOsqueryCollations('SELECT * FROM os_version ORDER BY version COLLATE version DESC')).to.equal(
      'SELECT * FROM os_version ORDER BY version  DESC',
    );
    expect(stripOsqueryCollations("SELECT 'x COLLATE version' AS a")).to.equal("SELECT 'x COLLATE version' AS a");
    expect(stripOsqueryCollations('SELECT name COLLATE NOCASE FROM users')).to.equal(
      'SELECT name COLLATE NOCASE FROM users',
    );
  });

  it('reads a double-quoted word that names no column as a string, as osquery’s SQLite does', () => {
    const db = createTablesDb('darwin');
    db.prepare(
      'INSERT INTO disk_encryption (name, user_uuid, filevault_status) ' +
        "VALUES ('disk1', 'U', 'on'), ('disk2', '', 'off')",
    ).run();
    const rows = prepareOsquerySql(
      db,
      'SELECT name FROM disk_encryption WHERE user_uuid IS NOT "" AND "name" != "disk9"',
    ).all();
    expect(rows).to.deep.equal([{ name: 'disk1' }]);
  });
});
