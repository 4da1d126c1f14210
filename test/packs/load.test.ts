import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackFile, loadPacksDir } from '../../server/packs/load.js';
import { parsePackText } from '../../server/packs/parse.js';
import { FIXTURES, tempDir } from './helpers.js';

const OSQUERY_PACKS = join(FIXTURES, 'osquery-packs');
const OSQUERY_CONFIGS = join(FIXTURES, 'osquery-configs');

const pack = (queries: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...extra, queries }, null, 2);
const check = { title: 'T', message: 'M' };

describe('loadPacksDir', () => {
  it("loads every pack of osquery's own packs/ directory unmodified", () => {
    const files = readdirSync(OSQUERY_PACKS).filter((f) => f.endsWith('.conf'));
    const r = loadPacksDir(OSQUERY_PACKS);
    expect(r.errors).to.deep.equal([]);
    expect(r.packs.map((p) => p.name)).to.deep.equal(files.map((f) => f.replace(/\.conf$/, '')).sort());
    const osx = r.packs.find((p) => p.name === 'osx-attacks');
    expect(Object.keys(osx?.queries ?? {}).length).to.equal(74);
    // backslash continuations joined into one SQL string
    expect(osx?.queries.WireLurker?.query).to.match(
      /^select \* from launchd where\s+name = 'com\.apple\.machook_damon\.plist' OR/,
    );
    // numeric-string intervals are normalised to numbers
    expect(r.packs.find((p) => p.name === 'it-compliance')?.queries.osquery_info?.interval).to.equal(86400);
    expect(r.checks).to.deep.equal([]);
  });

  it("keeps ossec-rootkit's query names with '/' (pack names never hold '/', so names still split) and warns", () => {
    const r = loadPacksDir(OSQUERY_PACKS);
    const ossec = r.packs.find((p) => p.name === 'ossec-rootkit');
    expect(ossec?.queries['sadmind/iis_worm']).to.not.equal(undefined);
    expect(
      r.warnings.some((w) => w.message.includes('sadmind/iis_worm') && w.file.endsWith('ossec-rootkit.conf')),
    ).to.equal(true);
  });

  it('warns about queries that cannot run on a platform they target', () => {
    const r = loadPacksDir(OSQUERY_PACKS);
    const sql = r.warnings.filter((w) => w.problem.includes('cannot run on')).map((w) => `${w.path} ${w.problem}`);
    expect(sql).to.deep.equal([
      '/queries/mounts/query pack "it-compliance" query "mounts" cannot run on windows: no such table: mounts',
      '/queries/opera_extensions/query pack "vuln-management" query "opera_extensions" cannot run on darwin: ' +
        'no such table: opera_extensions',
      '/queries/opera_extensions/query pack "vuln-management" query "opera_extensions" cannot run on linux: ' +
        'no such table: opera_extensions',
    ]);
  });

  it('refuses a broken file with file, location and problem, and keeps loading the others', () => {
    const { dir, cleanup } = tempDir({
      'a-good.json': pack({ q1: { query: 'select 1', interval: 60, check } }),
      'b-syntax.conf': '{\n  // fine comment\n  "queries": {\n    "q2": {"query": "select 2" "interval": 60}\n  }\n}\n',
      'c-schema.json': pack({ q3: { query: 'select 3', interval: 'hourly' } }),
      'd-good.conf': '# comment\n' + pack({ q4: { query: 'select 4' } }),
      'notes.txt': 'not a pack',
    });
    try {
      const r = loadPacksDir(dir);
      expect(r.packs.map((p) => p.name)).to.deep.equal(['a-good', 'd-good']);
      expect(r.errors).to.have.length(2);
      const [syntax, schema] = r.errors;
      expect(syntax?.file).to.equal(join(dir, 'b-syntax.conf'));
      expect(syntax?.location).to.equal('4:32');
      expect(syntax?.message).to.equal(
        `${join(dir, 'b-syntax.conf')}:4:32: invalid JSON: expected ',' or '}' after property value, found "\\""`,
      );
      expect(schema?.file).to.equal(join(dir, 'c-schema.json'));
      expect(schema?.path).to.equal('/queries/q3/interval');
      expect(schema?.message).to.include('/queries/q3/interval').and.include('whole number of seconds');
      expect(r.checks.map((c) => c.id)).to.deep.equal(['q1']);
    } finally {
      cleanup();
    }
  });

  it('refuses a duplicate check id, naming both files', () => {
    const { dir, cleanup } = tempDir({
      'one.json': pack({ disk_encryption: { query: 'select 1', check } }),
      'two.json': pack({ disk_encryption: { query: 'select 2', check }, other: { query: 'select 3' } }),
    });
    try {
      const r = loadPacksDir(dir);
      expect(r.errors).to.have.length(1);
      const e = r.errors[0];
      expect(e?.file).to.equal(join(dir, 'two.json'));
      expect(e?.message).to.include('duplicate check id "disk_encryption"').and.include(join(dir, 'one.json'));
      expect(r.packs.map((p) => p.name)).to.deep.equal(['one']);
      expect(r.checks.map((c) => `${c.pack}:${c.id}`)).to.deep.equal(['one:disk_encryption']);
    } finally {
      cleanup();
    }
  });

  it('refuses a pack whose name is already taken by another file', () => {
    const { dir, cleanup } = tempDir({
      'base.json': pack({ a: { query: 'select 1' } }),
      'config.conf': JSON.stringify({ packs: { base: { queries: { b: { query: 'select 2' } } } } }),
    });
    try {
      const r = loadPacksDir(dir);
      expect(r.packs.map((p) => p.source)).to.deep.equal([join(dir, 'base.json')]);
      expect(r.errors[0]?.message).to.include('duplicate pack name "base"').and.include(join(dir, 'base.json'));
    } finally {
      cleanup();
    }
  });

  it('skips policy.json and policy.yaml (they are not packs)', () => {
    const { dir, cleanup } = tempDir({ 'policy.json': '{"tiers": {}}', 'p.json': pack({ a: { query: 'select 1' } }) });
    try {
      const r = loadPacksDir(dir);
      expect(r.errors).to.deep.equal([]);
      expect(r.packs.map((p) => p.name)).to.deep.equal(['p']);
    } finally {
      cleanup();
    }
  });
});

describe("loadPackFile on osquery's test configs", () => {
  const refused = new Set(['test.badconfig', 'test_killswitch_incorrect_key.conf']);
  const files = [
    ...readdirSync(OSQUERY_CONFIGS).filter((f) => f !== 'test.config.d'),
    'test.config.d/osquery.conf',
    'test.config.d/extra_options.conf',
  ];

  for (const f of files) {
    if (refused.has(f)) {
      it(`refuses ${f} with its file, line:column and problem`, () => {
        const r = loadPackFile(join(OSQUERY_CONFIGS, f));
        expect(r.packs).to.deep.equal([]);
        expect(r.errors).to.have.length(1);
        const e = r.errors[0];
        expect(e?.file).to.equal(join(OSQUERY_CONFIGS, f));
        expect(e?.location).to.match(/^\d+:\d+$/);
        expect(e?.message).to.match(
          new RegExp(`^${join(OSQUERY_CONFIGS, f).replaceAll('.', '\\.')}:\\d+:\\d+: invalid JSON: `),
        );
      });
    } else {
      it(`loads ${f}`, () => {
        const r = loadPackFile(join(OSQUERY_CONFIGS, f));
        expect(r.errors).to.deep.equal([]);
      });
    }
  }

  it('points at the stray comma after the document in test.badconfig (line 29, after the comment lines)', () => {
    const r = loadPackFile(join(OSQUERY_CONFIGS, 'test.badconfig'));
    expect(r.errors[0]?.location).to.equal('29:1');
    expect(r.errors[0]?.problem).to.include('after the end of the JSON document');
  });

  it('reads inline packs and the schedule (as a pack named after the file) from a full config', () => {
    const r = loadPackFile(join(OSQUERY_CONFIGS, 'test_inline_pack.conf'));
    expect(r.packs.map((p) => p.name)).to.deep.equal([
      'test_inline_pack',
      'unrestricted_pack',
      'discovery_pack',
      'fake_version_pack',
      'valid_discovery_pack',
      'restricted_pack',
    ]);
    const schedule = r.packs[0];
    expect(schedule?.queries.launchd?.query).to.equal('select * from launchd;');
    const discovery = r.packs.find((p) => p.name === 'discovery_pack');
    // non-string discovery entries are ignored, as osquery does
    expect(discovery?.discovery).to.deep.equal(["select pid from processes where name = 'foobar';"]);
    expect(r.warnings.some((w) => w.path === '/packs/discovery_pack/discovery')).to.equal(true);
    const restricted = r.packs.find((p) => p.name === 'restricted_pack');
    expect(restricted?.shard).to.equal(1);
    expect(restricted?.file_paths).to.deep.equal({ restricted_pack: ['/restricted'] });
  });

  it('skips a pack given as a path (the TLS config plugin cannot fetch it) with a warning', () => {
    const r = loadPackFile(join(OSQUERY_CONFIGS, 'test_noninline_packs.conf'));
    expect(r.packs.map((p) => p.name)).to.deep.equal(['foobar']);
    expect(r.warnings.map((w) => w.path)).to.include('/packs/tester');
  });

  it('loads a plain pack file with string intervals and free-form platforms', () => {
    const r = loadPackFile(join(OSQUERY_CONFIGS, 'test_pack.conf'));
    expect(r.packs).to.have.length(1);
    expect(r.packs[0]?.name).to.equal('test_pack');
    expect(r.packs[0]?.queries.launchd).to.include({ interval: 414141, platform: 'whatever', value: 'Value overflow' });
  });
});

describe('parsePackText', () => {
  it('normalises osquery value forms (numeric strings, boolean strings)', () => {
    const r = parsePackText(
      'p',
      pack({ q: { query: 'select 1', interval: '300', snapshot: 'true', removed: 'False', shard: '10' } }),
      'api',
    );
    expect(r.errors).to.deep.equal([]);
    expect(r.packs[0]?.queries.q).to.include({ interval: 300, snapshot: true, removed: false, shard: 10 });
  });

  it('turns queries with a check into CheckDefs with defaults and the effective platform', () => {
    const r = parsePackText(
      'posture',
      pack(
        {
          fv: {
            query: 'select 1',
            interval: 300,
            snapshot: true,
            platform: 'darwin',
            check: { ...check, remediation_url: 'https://example.com/fv', severity: 'high', pass: 'size(rows) > 0' },
          },
          any_os: { query: 'select 2', check },
          plain: { query: 'select 3' },
        },
        { platform: 'posix' },
      ),
      'api',
    );
    expect(r.errors).to.deep.equal([]);
    expect(r.checks).to.deep.equal([
      {
        id: 'fv',
        pack: 'posture',
        sql: 'select 1',
        platform: 'darwin',
        intervalSeconds: 300,
        snapshot: true,
        title: 'T',
        message: 'M',
        remediationUrl: 'https://example.com/fv',
        pass: 'size(rows) > 0',
        severity: 'high',
      },
      {
        id: 'any_os',
        pack: 'posture',
        sql: 'select 2',
        platform: 'posix',
        intervalSeconds: 3600,
        snapshot: false,
        title: 'T',
        message: 'M',
        severity: 'medium',
      },
    ]);
  });

  const refusals: Array<[string, Record<string, unknown>, string, string]> = [
    [
      'an unknown key in check',
      { q: { query: 'select 1', check: { ...check, colour: 'red' } } },
      '/queries/q/check/colour',
      'unknown key "colour"',
    ],
    [
      'a check without a message',
      { q: { query: 'select 1', check: { title: 'T' } } },
      '/queries/q/check',
      'missing required key "message"',
    ],
    [
      'a bad severity',
      { q: { query: 'select 1', check: { ...check, severity: 'urgent' } } },
      '/queries/q/check/severity',
      'must be one of',
    ],
    [
      'a remediation_url that is not a URL',
      { q: { query: 'select 1', check: { ...check, remediation_url: 'see wiki' } } },
      '/queries/q/check/remediation_url',
      'http(s) URL',
    ],
    [
      'a pass expression that does not parse',
      { q: { query: 'select 1', check: { ...check, pass: 'size(rows > ' } } },
      '/queries/q/check/pass',
      'invalid CEL expression',
    ],
    [
      'a pass expression that is not a bool',
      { q: { query: 'select 1', check: { ...check, pass: 'rows[0].version' } } },
      '/queries/q/check/pass',
      'must evaluate to a bool',
    ],
    [
      'a pass expression calling an unknown helper',
      { q: { query: 'select 1', check: { ...check, pass: 'is_new(rows)' } } },
      '/queries/q/check/pass',
      'invalid CEL expression',
    ],
    ['a query without SQL', { q: { interval: 60 } }, '/queries/q', 'missing required key "query"'],
    [
      'an interval above a week',
      { q: { query: 'select 1', interval: 604801 } },
      '/queries/q/interval',
      'whole number of seconds',
    ],
    [
      'a numeric-string interval of 0',
      { q: { query: 'select 1', interval: '0' } },
      '/queries/q/interval',
      'whole number of seconds',
    ],
    ['a non-boolean snapshot', { q: { query: 'select 1', snapshot: 'yes' } }, '/queries/q/snapshot', 'true or false'],
    ['a check id with a slash', { 'a/b': { query: 'select 1', check } }, '/queries/a~1b', "must not contain '/'"],
  ];
  for (const [what, queries, path, text] of refusals) {
    it(`refuses ${what}, naming the JSON path`, () => {
      const r = parsePackText('p', pack(queries), 'packs/p.json');
      expect(r.packs).to.deep.equal([]);
      const e = r.errors.find((x) => x.path === path);
      expect(e, JSON.stringify(r.errors)).to.not.equal(undefined);
      expect(e?.file).to.equal('packs/p.json');
      expect(e?.message).to.include(`packs/p.json: ${path}`).and.include(text);
    });
  }

  it("refuses a pack name with '/' in a config", () => {
    const r = parsePackText('cfg', JSON.stringify({ packs: { 'a/b': { queries: {} } } }), 'cfg.conf');
    expect(r.errors[0]?.path).to.equal('/packs/a~1b');
    expect(r.errors[0]?.problem).to.include("must not contain '/'");
  });

  it('reports schedule problems under /schedule', () => {
    const r = parsePackText(
      'cfg',
      JSON.stringify({ schedule: { t: { query: 'select 1', interval: -5 } } }),
      'cfg.conf',
    );
    expect(r.errors.map((e) => e.path)).to.deep.equal(['/schedule/t/interval']);
  });

  it('tolerates unknown query keys the way osquery does, with a warning', () => {
    const r = parsePackText('p', pack({ q: { query: 'select 1', snapshop: true } }), 'p.json');
    expect(r.errors).to.deep.equal([]);
    expect(r.warnings.map((w) => w.path)).to.deep.equal(['/queries/q/snapshop']);
  });

  it('refuses a document that is not an object', () => {
    const r = parsePackText('p', '[1, 2]', 'p.json');
    expect(r.errors[0]?.message).to.equal('p.json: /: the document must be a JSON object (an osquery pack or config)');
  });
});
