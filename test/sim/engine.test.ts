import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPacksDir } from '../../server/packs/load.js';
import { compilePass } from '../../server/posture/cel.js';
import { platformMatches, compileConfig, inShard, OSQUERY_DEFAULT_OPTIONS } from '../../server/sim/config.js';
import { createQueryEngine, diffOutcomes, type HostRef } from '../../server/sim/engine.js';
import { hostIdentity, type SimPlatform } from '../../server/sim/identity.js';
import { uniqueChars } from '../../server/sim/identity-data.js';
import { buildProfiles } from '../../server/sim/profiles.js';
import { createTimerWheel } from '../../server/sim/wheel.js';
import { createHistogram } from '../../server/sim/stats.js';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

const hostRef = (seed: number, index: number, configValid = true): HostRef => ({
  index,
  identity: () => hostIdentity(seed, index),
  stateValue: (t) =>
    t === 'config_valid' ? (configValid ? '1' : '0') : t === 'config_hash' ? (configValid ? 'abc' : '') : undefined,
  stateKey: () => (configValid ? 'abc' : ''),
});

describe('hostIdentity', () => {
  it('is deterministic from (seed, index) and differs across seeds', () => {
    expect(hostIdentity(7, 12)).to.deep.equal(hostIdentity(7, 12));
    expect(hostIdentity(7, 12).uuid).to.not.equal(hostIdentity(8, 12).uuid);
  });

  it('gives 50,000 hosts unique serials, hardware UUIDs and hostnames', () => {
    const serials = new Set<string>();
    const uuids = new Set<string>();
    const names = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const id = hostIdentity(3, i);
      serials.add(id.serial);
      uuids.add(id.uuid);
      names.add(id.hostname);
    }
    expect(serials.size).to.equal(50_000);
    expect(uuids.size).to.equal(50_000);
    expect(names.size).to.equal(50_000);
  });

  it('draws realistic serials per vendor (Apple, Lenovo, Dell service tags, HP, Surface)', () => {
    const seen = new Map<string, string[]>();
    for (let i = 0; i < 3000; i++) {
      const id = hostIdentity(1, i);
      const list = seen.get(id.vendor) ?? [];
      list.push(id.serial);
      seen.set(id.vendor, list);
    }
    for (const s of seen.get('Apple Inc.') ?? [])
      expect(s).to.match(/^([A-Z0-9]{3}[A-Z0-9]{5}[A-Z0-9]{4}|[A-Z][0-9BCDFGHJKLMNPQRSTVWXYZ]{9})$/);
    expect((seen.get('Apple Inc.') ?? []).some((s) => s.startsWith('C02'))).to.equal(true);
    for (const s of seen.get('LENOVO') ?? []) expect(s).to.match(/^(PF|PC|R9|MP)[0-9A-Z]{6}$/);
    for (const s of seen.get('Dell Inc.') ?? []) expect(s).to.match(/^[0-9BCDFGHJKLMNPQRSTVWXYZ]{7}$/);
    for (const s of seen.get('HP') ?? []) expect(s).to.match(/^(5CG|5CD|CND)[0-9A-Z]{7}$/);
    for (const s of seen.get('Microsoft Corporation') ?? []) expect(s).to.match(/^0\d{11}$/);
    expect(uniqueChars('0123456789', 3, 5, 9)).to.have.length(3);
  });
});

describe('createQueryEngine', () => {
  const catalogue = buildProfiles();
  const engine = createQueryEngine();
  const darwin = catalogue.compliant('darwin')[0]?.[0];
  const windows = catalogue.compliant('windows')[0]?.[0];
  after(() => engine.close());

  it('runs real SQL on osquery-shaped tables and returns every value as a string', () => {
    if (!darwin) throw new Error('no darwin profile');
    const o = engine.run(darwin, 'SELECT global_state, stealth_enabled FROM alf;', hostRef(1, 0));
    expect(o).to.include({ ok: true, message: '' });
    expect(o.rows).to.deep.equal([{ global_state: '1', stealth_enabled: '1' }]);
    const count = engine.run(
      darwin,
      "SELECT COUNT(*) AS n FROM sip_config WHERE config_flag = 'sip' AND enabled = 1",
      hostRef(1, 0),
    );
    expect(count.rows).to.deep.equal([{ n: '1' }]);
  });

  it('fails a query on a table the platform lacks as osquery does', () => {
    if (!darwin || !windows) throw new Error('no profile');
    const o = engine.run(darwin, 'SELECT * FROM bitlocker_info', hostRef(1, 0));
    expect(o).to.deep.include({ ok: false, rows: [], message: 'no such table: bitlocker_info' });
    expect(engine.run(windows, 'SELECT * FROM alf', hostRef(1, 1)).message).to.equal('no such table: alf');
    expect(engine.run(darwin, 'SELEC 1', hostRef(1, 0)).ok).to.equal(false);
  });

  it('answers identity tables with each host its own serial and UUID', () => {
    if (!darwin) throw new Error('no profile');
    const a = engine.run(darwin, 'SELECT hardware_serial, uuid FROM system_info', hostRef(5, 10));
    const b = engine.run(darwin, 'SELECT hardware_serial, uuid FROM system_info', hostRef(5, 11));
    expect(a.rows[0]?.['hardware_serial']).to.equal(hostIdentity(5, 10).serial);
    expect(b.rows[0]?.['hardware_serial']).to.equal(hostIdentity(5, 11).serial);
    expect(engine.run(darwin, 'SELECT config_valid FROM osquery_info', hostRef(5, 10, false)).rows).to.deep.equal([
      { config_valid: '0' },
    ]);
  });

  it('shares one result object between hosts of a profile in the same tick', () => {
    if (!darwin) throw new Error('no profile');
    engine.setTick(100);
    const a = engine.run(darwin, 'SELECT assessments_enabled FROM gatekeeper', hostRef(1, 1));
    const b = engine.run(darwin, 'SELECT assessments_enabled FROM gatekeeper', hostRef(1, 2));
    expect(a).to.equal(b);
    const t1 = engine.run(darwin, 'SELECT unix_time FROM time', hostRef(1, 1));
    engine.setTick(101);
    const t2 = engine.run(darwin, 'SELECT unix_time FROM time', hostRef(1, 1));
    expect(t1.rows).to.have.length(1);
    expect(t2).to.not.equal(t1);
  });

  it('diffs two results as added and removed rows', () => {
    const o = (rows: Array<Record<string, string>>) => ({ ok: true, rows, message: '', fp: JSON.stringify(rows) });
    const d = diffOutcomes(o([{ a: '1' }, { a: '2' }]), o([{ a: '2' }, { a: '3' }]));
    expect(d).to.deep.equal({ added: [{ a: '3' }], removed: [{ a: '1' }] });
    expect(diffOutcomes(null, o([{ a: '1' }]))).to.deep.equal({ added: [{ a: '1' }], removed: [] });
  });
});

describe('host profiles against the shipped posture packs', () => {
  const { checks, errors } = loadPacksDir(PACKS);
  const catalogue = buildProfiles();
  const engine = createQueryEngine();
  after(() => engine.close());

  const verdicts = (platform: SimPlatform, profileName: string): Map<string, boolean> => {
    const profile = catalogue.byName.get(profileName);
    if (!profile) throw new Error(profileName);
    const out = new Map<string, boolean>();
    for (const c of checks) {
      if (!platformMatches(c.platform, platform)) continue;
      const o = engine.run(profile, c.sql, hostRef(9, profile.id));
      const pass = o.ok && (c.pass ? compilePass(c.pass, c.id)(o.rows) : o.rows.length > 0);
      out.set(c.id, pass);
    }
    return out;
  };

  it('loads the packs', () => {
    expect(errors).to.deep.equal([]);
    expect(checks.length).to.be.greaterThan(5);
  });

  it('every compliant profile passes every check of its platform', () => {
    for (const platform of ['darwin', 'windows', 'linux'] as const) {
      for (const [p] of catalogue.compliant(platform)) {
        const failed = [...verdicts(platform, p.name)].filter(([, ok]) => !ok).map(([id]) => id);
        expect(failed, p.name).to.deep.equal([]);
      }
    }
  });

  it('every failing profile fails at least one check of its platform', () => {
    for (const platform of ['darwin', 'windows', 'linux'] as const) {
      for (const [p] of catalogue.failing(platform)) {
        const failed = [...verdicts(platform, p.name)].filter(([, ok]) => !ok);
        expect(failed.length, p.name).to.be.greaterThan(0);
      }
    }
  });
});

describe('sim config', () => {
  it('matches platforms the way osquery does on the client', () => {
    expect(platformMatches('darwin', 'darwin')).to.equal(true);
    expect(platformMatches('posix', 'linux')).to.equal(true);
    expect(platformMatches('posix', 'windows')).to.equal(false);
    expect(platformMatches('ubuntu', 'linux')).to.equal(true);
    expect(platformMatches('any', 'windows')).to.equal(true);
    expect(platformMatches(undefined, 'windows')).to.equal(true);
    expect(platformMatches('windows', 'darwin')).to.equal(false);
  });

  it('names pack queries pack<D>pack<D>query and schedule queries bare, and applies options', () => {
    const c = compileConfig(
      {
        options: { pack_delimiter: '/', logger_tls_period: '7', distributed_interval: 30 },
        schedule: { uptime: { query: 'SELECT * FROM uptime', interval: 60 } },
        packs: {
          base: {
            platform: 'darwin',
            queries: { fw: { query: 'SELECT * FROM alf', interval: '120', snapshot: 'true' } },
          },
          file: 'packs/x.conf',
        },
      },
      OSQUERY_DEFAULT_OPTIONS,
    );
    expect(c.options.logger_tls_period).to.equal(7);
    expect(c.options.distributed_interval).to.equal(30);
    expect(c.scheduleFor('darwin').map((q) => [q.logName, q.interval, q.snapshot])).to.deep.equal([
      ['uptime', 60, false],
      ['pack/base/fw', 120, true],
    ]);
    expect(c.scheduleFor('windows').map((q) => q.logName)).to.deep.equal(['uptime']);
    expect(inShard('any-host', null)).to.equal(true);
  });
});

describe('createTimerWheel', () => {
  it('fires codes in time order once, never early', () => {
    const w = createTimerWheel(0, 10);
    w.schedule(35, 3);
    w.schedule(12, 1);
    w.schedule(20, 2);
    const fired: number[] = [];
    w.advance(19, (c) => fired.push(c));
    expect(fired).to.deep.equal([]);
    w.advance(20, (c) => fired.push(c));
    expect(fired).to.deep.equal([1, 2]);
    w.advance(1000, (c) => fired.push(c));
    expect(fired).to.deep.equal([1, 2, 3]);
    expect(w.size()).to.equal(0);
  });
});

describe('createHistogram', () => {
  it('reports percentiles within 2% of the exact value', () => {
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    expect(h.percentile(50)).to.be.closeTo(500, 10);
    expect(h.percentile(99)).to.be.closeTo(990, 20);
    expect(h.count()).to.equal(1000);
    expect(path.basename(PACKS)).to.equal('packs');
  });
});
