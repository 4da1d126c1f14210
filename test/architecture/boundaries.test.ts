/**
 * The module boundaries, executable (after Fleet's arch_test.go): every import in server/ (relative or
 * of an npm package, `import type`, side-effect imports and re-exports included) must follow the tables
 * below. main.ts is the composition root and may import every module. The checker itself is
 * test/architecture/imports.ts; a fixture tree with one violation of each kind proves that it fails.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  checkBoundaries,
  checkImport,
  importsOfSource,
  isRelative,
  moduleOf,
  targetOf,
  type BoundaryRules,
  type ImportRef,
} from './imports.js';

const SERVER = fileURLToPath(new URL('../../server', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/server', import.meta.url));

/** Module → the modules it may import. */
const ALLOWED: BoundaryRules['modules'] = {
  shared: [],
  domain: ['shared'],
  config: ['shared'],
  'osquery-tables': ['domain', 'shared'],
  packs: ['domain', 'shared', 'osquery-tables'],
  posture: ['domain', 'shared'],
  gateway: ['domain', 'shared'], // the decision path: a lookup over precomputed verdicts, never the engine or koa
  store: ['domain', 'shared'],
  audit: ['domain', 'shared'],
  breakglass: ['domain', 'shared'],
  people: ['domain', 'shared', 'breakglass'],
  osquery: ['domain', 'shared'],
  devices: ['domain', 'shared'], // device identity: inventory, device CA and certificates, pending devices
  control: ['domain', 'shared', 'packs', 'posture'],
  admin: ['domain', 'shared', 'control', 'devices'],
  http: ['domain', 'shared'],
  sim: ['domain', 'shared', 'osquery-tables', 'packs'],
  // composition roots and tools
  cli: ['*'],
  bench: ['*'],
};

/** The modules that serve HTTP routes (and the roots that assemble them): the only koa importers. */
const KOA = ['http', 'admin', 'audit', 'people', 'breakglass', 'main', 'cli'];
/** The modules that validate input at a boundary with JSON Schema. */
const VALIDATORS = ['config', 'packs', 'osquery', 'admin', 'audit', 'people', 'breakglass', 'http'];

/**
 * npm package → the modules (or files) that may import it. `node:` built-ins are allowed everywhere,
 * a package missing here nowhere. Outside server/ (not scanned): db/ uses drizzle-orm, tests use anything.
 */
const PACKAGES: BoundaryRules['packages'] = {
  'drizzle-orm': ['store'], // SQL stays in the store
  'better-sqlite3': ['store', 'osquery-tables', 'sim', 'bench'], // the store; the table validator; tools
  koa: KOA,
  '@koa/router': KOA,
  'koa-bodyparser': KOA,
  'node-forge': ['http/tls.ts'], // certificates for the TLS listener only
  pkijs: ['devices'], // the device CA: certificates, CRL, PKCS#12 (on WebCrypto)
  asn1js: ['devices'],
  'csv-parse': ['devices'], // inventory files
  ajv: VALIDATORS,
  'ajv-formats': VALIDATORS,
  yaml: ['packs', 'control'], // pack and policy files
  '@marcbachmann/cel-js': ['packs', 'posture'], // compiled in packs, evaluated in posture
  pino: ['shared'],
  'prom-client': ['shared'],
  autocannon: ['bench'],
  tsx: ['cli'], // bin.js registers the TypeScript loader
};

const RULES: BoundaryRules = { modules: ALLOWED, packages: PACKAGES };

describe('architecture', () => {
  const { imports, violations } = checkBoundaries(SERVER, RULES);
  const edges = imports
    .filter((i) => isRelative(i.specifier))
    .map((i) => ({ file: i.file, from: moduleOf(i.file), to: moduleOf(targetOf(i)) }))
    .filter((e) => e.from !== e.to);

  it('finds the imports it checks (the scanner works)', () => {
    expect(edges.length).to.be.greaterThan(30);
    expect(edges.some((e) => e.from === 'osquery' && e.to === 'domain')).to.equal(true);
    expect(imports.some((i) => i.file === 'store/open.ts' && i.specifier === 'drizzle-orm/better-sqlite3')).to.equal(
      true,
    );
    expect(imports.some((i) => i.file === 'cli/main.ts' && i.kind === 'dynamic')).to.equal(true);
  });

  it('has a rule for every server module', () => {
    const modules = fs
      .readdirSync(SERVER, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    for (const m of modules) expect(ALLOWED, `module server/${m} needs a rule in this test`).to.have.property(m);
  });

  it('server modules import only along allowed edges and only the npm packages allowed to them', () => {
    expect(violations).to.deep.equal([]);
  });

  it('only main.ts and the CLI/bench roots import the store and http assembly', () => {
    const bad = edges.filter(
      (e) => (e.to === 'store' || e.to === 'http') && !['main', 'cli', 'bench'].includes(e.from),
    );
    expect(bad.map((e) => `${e.file}: ${e.from} -> ${e.to}`)).to.deep.equal([]);
  });

  it('keeps the gateway decision path free of the posture engine, osquery and admin', () => {
    const bad = edges.filter(
      (e) => e.from === 'gateway' && ['posture', 'osquery', 'admin', 'control', 'store'].includes(e.to),
    );
    expect(bad).to.deep.equal([]);
  });

  it('fails on a violation: reports exactly the fixture’s bad edge, side-effect import, re-export, package', () => {
    const fixture = checkBoundaries(FIXTURE, RULES);
    expect(fixture.violations).to.have.members([
      "gateway/decide.ts:3: import '../posture/engine.js': gateway may not import posture",
      "gateway/handler.ts:2: import 'koa': gateway may not import package koa",
      "gateway/wiring.ts:2: side-effect '../control/runtime.js': gateway may not import control",
      "osquery/index.ts:2: export-from '../posture/engine.js': osquery may not import posture",
    ]);
    expect(fixture.violations).to.have.length(4);
    // the allowed imports were seen, not missed
    expect(fixture.imports.map((i) => `${i.file} ${i.specifier}`)).to.include.members([
      'gateway/decide.ts ../domain/types.js',
      'store/query.ts drizzle-orm',
      'store/query.ts node:path',
      'main.ts ./gateway/wiring.js',
    ]);
  });

  it('reads every import form, and nothing in comments or strings', () => {
    const text = [
      "import a from 'p-default';",
      "import type { B } from 'p-type';",
      "import 'p-side';",
      "export * from 'p-star';",
      "export { c } from 'p-named';",
      "const d = await import('p-dynamic');",
      "type E = import('p-import-type').E;",
      "import f = require('p-require');",
      "// import 'p-comment';",
      'const g = "import \'p-string\'";',
    ].join('\n');
    expect(importsOfSource('x/y.ts', text).map((i) => `${i.line} ${i.kind} ${i.specifier}`)).to.deep.equal([
      '1 import p-default',
      '2 import p-type',
      '3 side-effect p-side',
      '4 export-from p-star',
      '5 export-from p-named',
      '6 dynamic p-dynamic',
      '7 dynamic p-import-type',
      '8 require p-require',
    ]);
  });

  it('names a bare Node built-in, a package in no rule and an import leaving the root', () => {
    const rules: BoundaryRules = { modules: { a: [] }, packages: {} };
    const ref = (specifier: string): ImportRef => ({ file: 'a/x.ts', line: 1, kind: 'import', specifier });
    const refs = [ref('fs'), ref('left-pad/sub'), ref('../../test/helper.js')];
    expect(refs.map((r) => checkImport(r, rules))).to.deep.equal([
      'a Node built-in: import it as node:fs',
      'package left-pad is in no rule',
      'leaves the source root (server/ imports nothing outside it)',
    ]);
  });
});
