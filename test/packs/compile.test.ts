import { expect } from 'chai';
import type { Pack } from '../../server/domain/types.js';
import { AppError } from '../../server/shared/errors.js';
import {
  OSQUERY_MAX_CONFIG_BYTES,
  checksForHost,
  compileConfig,
  createConfigCompiler,
  createQueryResolver,
} from '../../server/packs/compile.js';
import { parsePackText } from '../../server/packs/parse.js';
import { host } from './helpers.js';

function packOf(name: string, doc: Record<string, unknown>): Pack {
  const r = parsePackText(name, JSON.stringify(doc), `${name}.json`);
  expect(r.errors).to.deep.equal([]);
  const p = r.packs[0];
  if (!p) throw new Error('no pack');
  return p;
}

const check = { title: 'T', message: 'M', pass: 'size(rows) > 0' };
const packs: Pack[] = [
  packOf('mac', { platform: 'darwin', queries: { fv: { query: 'select 1', interval: 300, snapshot: true, check } } }),
  packOf('win', { platform: 'windows', queries: { bl: { query: 'select 2', interval: 300, check } } }),
  packOf('mixed', {
    discovery: ['select 1 from osquery_info'],
    file_paths: { etc: ['/etc/%%'] },
    queries: {
      everywhere: { query: 'select 3' },
      posix_only: { query: 'select 4', platform: 'posix', check: { title: 'P', message: 'p' } },
      linux_only: { query: 'select 5', platform: 'linux' },
      win_only: { query: 'select 6', platform: 'windows' },
    },
  }),
];

describe('compileConfig', () => {
  const cases: Array<[string, ReturnType<typeof host>, Record<string, string[]>]> = [
    ['macOS', host('darwin', 'darwin'), { mac: ['fv'], mixed: ['everywhere', 'posix_only'] }],
    ['Windows', host('windows', 'windows'), { mixed: ['everywhere', 'win_only'], win: ['bl'] }],
    ['Ubuntu', host('linux', 'ubuntu'), { mixed: ['everywhere', 'linux_only', 'posix_only'] }],
    ['an unplaceable host', host('unknown', ''), { mixed: ['everywhere'] }],
  ];
  for (const [what, h, want] of cases) {
    it(`sends a ${what} host only the packs and queries whose platform matches it`, () => {
      const config = compileConfig(h, packs);
      const got = Object.fromEntries(Object.entries(config.packs).map(([n, p]) => [n, Object.keys(p.queries)]));
      expect(got).to.deep.equal(want);
    });
  }

  it('strips every check extension and Trustgate-only fields, and keeps osquery pack keys like discovery', () => {
    const config = compileConfig(host('darwin', 'darwin'), packs);
    const text = JSON.stringify(config);
    expect(text).to.not.include('"check"');
    expect(text).to.not.include('"source"');
    expect(config.packs.mac).to.deep.equal({
      platform: 'darwin',
      queries: { fv: { interval: 300, query: 'select 1', snapshot: true } },
    });
    expect(config.packs.mixed?.discovery).to.deep.equal(['select 1 from osquery_info']);
    expect(config.packs.mixed?.file_paths).to.deep.equal({ etc: ['/etc/%%'] });
    // the source packs are not modified
    expect(packs[0]?.queries.fv?.check?.title).to.equal('T');
  });

  it('sets the protocol options, and lets the caller override them', () => {
    const config = compileConfig(host('linux', 'debian'), packs, {
      distributedInterval: 5,
      overrides: { logger_tls_period: 3, host_identifier: 'uuid' },
    });
    expect(config.options).to.deep.equal({
      disable_distributed: false,
      distributed_interval: 5,
      distributed_tls_max_attempts: 3,
      host_identifier: 'uuid',
      logger_snapshot_event_type: false,
      logger_tls_max_lines: 1024,
      logger_tls_period: 3,
      pack_delimiter: '/',
      schedule_splay_percent: 10,
    });
  });

  it('is deterministic: pack order and key order do not change the bytes', () => {
    const a = JSON.stringify(compileConfig(host('linux', 'ubuntu'), packs));
    const b = JSON.stringify(compileConfig(host('linux', 'ubuntu'), [...packs].reverse()));
    expect(a).to.equal(b);
    const reordered = packOf('mixed', {
      queries: { linux_only: { platform: 'linux', query: 'select 5' }, everywhere: { query: 'select 3' } },
      file_paths: { etc: ['/etc/%%'] },
      discovery: ['select 1 from osquery_info'],
    });
    const c = JSON.stringify(compileConfig(host('linux', 'ubuntu'), [reordered]).packs.mixed);
    const d = JSON.stringify(
      compileConfig(host('linux', 'ubuntu'), [packs[2] as Pack]).packs.mixed?.queries.everywhere,
    );
    expect(c).to.include('"queries":{"everywhere":{"query":"select 3"},"linux_only"');
    expect(d).to.equal('{"query":"select 3"}');
  });

  it("refuses (AppError invalid) a config over osquery's 4 MiB limit", () => {
    const big = 'x'.repeat(1024 * 1024);
    const huge = packOf('huge', {
      queries: Object.fromEntries([1, 2, 3, 4].map((i) => [`q${i}`, { query: `select '${big}'` }])),
    });
    expect(() => compileConfig(host('darwin', 'darwin'), [huge])).to.throw(
      AppError,
      /over osquery's limit of 4194304 bytes/,
    );
    try {
      compileConfig(host('darwin', 'darwin'), [huge]);
    } catch (e) {
      expect(e instanceof AppError && e.code).to.equal('invalid');
    }
    // just under the limit is fine, and a host that does not get the pack is unaffected
    const ok = packOf('ok', {
      platform: 'windows',
      queries: { q: { query: `select '${'y'.repeat(OSQUERY_MAX_CONFIG_BYTES - 2000)}'` } },
    });
    expect(() => compileConfig(host('windows', 'windows'), [ok])).to.not.throw();
    expect(() => compileConfig(host('windows', 'windows'), [huge, ok])).to.throw(AppError);
  });
});

describe('createConfigCompiler', () => {
  it('serves hosts of one platform family the same compiled body and a hash that follows the content', () => {
    const compiler = createConfigCompiler(packs);
    const a = compiler.configFor(host('linux', 'ubuntu'));
    const b = compiler.configFor(host('linux', 'rhel'));
    const mac = compiler.configFor(host('darwin', 'darwin'));
    expect(b).to.equal(a);
    expect(a.json).to.equal(JSON.stringify(compileConfig(host('linux', 'ubuntu'), packs)));
    expect(a.hash).to.match(/^[0-9a-f]{64}$/);
    expect(mac.hash).to.not.equal(a.hash);
    expect(createConfigCompiler([...packs].reverse()).configFor(host('linux', 'debian')).hash).to.equal(a.hash);
  });
});

describe('createQueryResolver', () => {
  const resolverPacks = [
    packOf('posture', {
      queries: { disk_encryption: { query: 'select 1', check }, os_version: { query: 'select 2' } },
    }),
    packOf('it_compliance', { queries: { os_version: { query: 'select 3' } } }),
    packOf('a_b', { queries: { c: { query: 'select 4' } } }),
    packOf('a', { queries: { b_c: { query: 'select 5' } } }),
    packOf('ossec', { queries: { 'sadmind/iis_worm': { query: 'select 6' } } }),
  ];
  const r = createQueryResolver(resolverPacks);

  const cases: Array<[string, string | undefined]> = [
    ['pack/posture/disk_encryption', 'posture/disk_encryption'],
    ['pack_posture_disk_encryption', 'posture/disk_encryption'],
    ['pack/it_compliance/os_version', 'it_compliance/os_version'],
    ['pack_it_compliance_os_version', 'it_compliance/os_version'],
    ['pack/ossec/sadmind/iis_worm', 'ossec/sadmind/iis_worm'],
    ['pack_ossec_sadmind/iis_worm', 'ossec/sadmind/iis_worm'],
    ['pack/removed_pack/q', 'removed_pack/q'], // '/' names split unambiguously even for packs no longer loaded
    ['pack_a_b_c', undefined], // pack "a_b"+"c" and pack "a"+"b_c": ambiguous with '_'
    ['pack/a_b/c', 'a_b/c'],
    ['pack/a/b_c', 'a/b_c'],
    ['pack_unknown_thing', undefined],
    ['os_version', undefined],
    ['pack/', undefined],
    ['pack/posture/', undefined],
  ];
  for (const [name, want] of cases) {
    it(`resolves ${JSON.stringify(name)} to ${JSON.stringify(want)}`, () => {
      expect(r.queryKeyOf(name)).to.equal(want);
    });
  }

  it('maps query keys to check ids and back', () => {
    expect(r.checkIdOfQueryKey('posture/disk_encryption')).to.equal('disk_encryption');
    expect(r.checkIdOfQueryKey('posture/os_version')).to.equal(undefined);
    expect(r.queryKeyOfCheck('disk_encryption')).to.equal('posture/disk_encryption');
  });
});

describe('checksForHost', () => {
  it('keeps only the checks whose platform matches the host', () => {
    const checks = packs.flatMap(
      (p) => parsePackText(p.name, JSON.stringify({ platform: p.platform, queries: p.queries }), 'x').checks,
    );
    expect(checksForHost(host('darwin', 'darwin'), checks).map((c) => c.id)).to.deep.equal(['fv', 'posix_only']);
    expect(checksForHost(host('windows', 'windows'), checks).map((c) => c.id)).to.deep.equal(['bl']);
  });
});
