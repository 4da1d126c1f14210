/**
 * The module boundaries, executable (after Fleet's arch_test.go): every relative import in server/
 * must follow an allowed edge. `import type` counts. main.ts is the composition root and may import all.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../server', import.meta.url));

const ALLOWED: Record<string, readonly string[]> = {
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
  control: ['domain', 'shared', 'packs', 'posture'],
  admin: ['domain', 'shared', 'control'],
  http: ['domain', 'shared'],
  sim: ['domain', 'shared', 'osquery-tables', 'packs'],
  // composition roots and tools
  cli: ['*'],
  bench: ['*'],
};

function* tsFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

interface Edge { file: string; from: string; to: string }

function edges(): Edge[] {
  const out: Edge[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const file of tsFiles(SERVER)) {
    const rel = path.relative(SERVER, file);
    const from = rel.includes(path.sep) ? rel.split(path.sep)[0]! : 'main';
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(re)) {
      const spec = m[1] ?? m[2]!;
      const target = path.relative(SERVER, path.resolve(path.dirname(file), spec));
      if (target.startsWith('..')) continue;
      const to = target.includes(path.sep) ? target.split(path.sep)[0]! : 'main';
      if (to !== from) out.push({ file: rel, from, to });
    }
  }
  return out;
}

describe('architecture', () => {
  const all = edges();

  it('finds the imports it checks (the scanner works)', () => {
    expect(all.length).to.be.greaterThan(30);
    expect(all.some((e) => e.from === 'osquery' && e.to === 'domain')).to.equal(true);
  });

  it('has a rule for every server module', () => {
    const modules = new Set(fs.readdirSync(SERVER, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name));
    for (const m of modules) expect(ALLOWED, `module server/${m} needs a rule in this test`).to.have.property(m);
  });

  it('server modules import only along allowed edges', () => {
    const bad = all.filter((e) => e.from !== 'main' && !(ALLOWED[e.from] ?? []).includes('*') && !(ALLOWED[e.from] ?? []).includes(e.to));
    expect(bad.map((e) => `${e.file}: ${e.from} -> ${e.to}`)).to.deep.equal([]);
  });

  it('only main.ts and the CLI/bench roots import the store and http assembly', () => {
    const bad = all.filter((e) => (e.to === 'store' || e.to === 'http') && !['main', 'cli', 'bench'].includes(e.from));
    expect(bad.map((e) => `${e.file}: ${e.from} -> ${e.to}`)).to.deep.equal([]);
  });

  it('keeps the gateway decision path free of the posture engine, osquery and admin', () => {
    const bad = all.filter((e) => e.from === 'gateway' && ['posture', 'osquery', 'admin', 'control', 'store'].includes(e.to));
    expect(bad).to.deep.equal([]);
  });
});
