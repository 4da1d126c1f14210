/**
 * Issue #15 item 8: property-based fuzzing of every JSON and YAML entry point of the admin, audit and
 * break-glass APIs over real HTTPS (the osquery endpoints have their own, test/osquery/fuzz.test.ts): any
 * JSON value, mutated real bodies, arbitrary bytes, and mutated policy YAML/JSON text (aliases, tags, merge
 * keys, deep nesting). Never a 5xx; every failure a JSON body with an `error`. Fixed seeds here; the bench's
 * longer run (`npm run bench:fuzz`) sets TRUSTGATE_FUZZ_RUNS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { startTestServer, REPO_PACKS, type TestServer } from '../support/server.js';

/** Runs per property: small in `npm test`, TRUSTGATE_FUZZ_RUNS in the bench's long run. */
const RUNS = Number(process.env.TRUSTGATE_FUZZ_RUNS ?? '') || 60;
const SEED = Number(process.env.TRUSTGATE_FUZZ_SEED ?? '') || 20261130;

const POLICY_YAML = fs.readFileSync(path.join(REPO_PACKS, 'policy.yaml'), 'utf8');

interface Entry {
  method: 'POST' | 'PUT';
  path: string;
  /** A real, valid body to mutate. */
  sample: unknown;
}

const ENTRIES: Entry[] = [
  { method: 'POST', path: '/api/v1/tokens', sample: { name: 'fuzz', role: 'viewer' } },
  { method: 'POST', path: '/api/v1/enroll-secrets', sample: { name: 'fuzz', expires_in: '1h' } },
  { method: 'POST', path: '/api/v1/queries', sample: { sql: 'select 1', serials: ['X'] } },
  { method: 'PUT', path: '/api/v1/packs/fuzz', sample: { queries: { q: { query: 'select 1', interval: 60 } } } },
  { method: 'POST', path: '/api/v1/policy/dry-run', sample: { text: POLICY_YAML, format: 'yaml' } },
  {
    method: 'POST',
    path: '/api/v1/devices/import',
    sample: { text: 'serial\nC02FUZZ\n', format: 'csv', dry_run: true },
  },
  { method: 'POST', path: '/api/v1/device-certs', sample: { serial: 'C02FUZZ' } },
  { method: 'POST', path: '/api/v1/device-certs/revoke', sample: { serial: 'C02FUZZ' } },
  { method: 'POST', path: '/api/v1/hosts/FUZZ/recheck', sample: {} },
  { method: 'POST', path: '/api/v1/pending-devices/1/approve', sample: {} },
  { method: 'POST', path: '/api/v1/pending-devices/1/reject', sample: {} },
  { method: 'POST', path: '/api/v1/break-glass', sample: { serial: 'FUZZ', resource: 'wiki', reason: 'fuzz' } },
  { method: 'POST', path: '/api/v1/break-glass/1/deny', sample: { reason: 'fuzz' } },
];

/** Text that stresses YAML: anchors/aliases, merge keys, tags, flow nesting, documents, odd scalars. */
const yamlJunk = fc.constantFrom(
  '&a [x, x]',
  '*a',
  '<<: *a',
  '!!binary aGk=',
  '!!js/function "f"',
  '!<tag:yaml.org,2002:str> x',
  '[[[[[[[[[[[[x]]]]]]]]]]]]',
  '{a: {b: {c: [1, {d: e}]}}}',
  '---',
  '...',
  '? complex key',
  '|\n  block',
  "'unterminated",
  '"\\u0000"',
  '0x1F',
  '.inf',
  '~',
  'max_age: 99999999999999999999d',
  '- *undefined_alias',
);

/** A mutation of the real policy text: a line replaced, inserted or cut, or junk spliced at a point. */
const mutatedPolicy: fc.Arbitrary<string> = fc
  .tuple(fc.nat(), fc.oneof(yamlJunk, fc.string()), fc.constantFrom('replace', 'insert', 'splice', 'cut'))
  .map(([at, junk, op]) => {
    const lines = POLICY_YAML.split('\n');
    const i = at % lines.length;
    if (op === 'replace') lines[i] = junk;
    else if (op === 'insert') lines.splice(i, 0, junk);
    else if (op === 'cut') return POLICY_YAML.slice(0, at % POLICY_YAML.length);
    else return POLICY_YAML.slice(0, at % POLICY_YAML.length) + junk + POLICY_YAML.slice(at % POLICY_YAML.length);
    return lines.join('\n');
  });

/** A JSON value, or the sample with one key replaced by such a value. */
const bodyFor = (e: Entry): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 6 }),
    fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 4 })).map(([k, v]) => {
      const copy = structuredClone(e.sample) as Record<string, unknown>;
      const keys = Object.keys(copy);
      copy[keys.length > 0 && k.length % 2 === 0 ? (keys[k.length % keys.length] as string) : k] = v;
      return copy;
    }),
  );

describe('admin, audit and break-glass APIs under fuzzed input (property, issue #15 item 8)', function () {
  this.timeout(300_000);
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => ts.stop());

  const check = (status: number, text: string, label: string) => {
    expect(status, `${label}: ${text.slice(0, 300)}`).to.be.below(500);
    if (status >= 400) expect(JSON.parse(text) as unknown, `${label}: ${text.slice(0, 300)}`).to.have.property('error');
  };

  it('any JSON value or mutated body to every JSON endpoint: a 4xx with an error or a success, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENTRIES).chain((e) => bodyFor(e).map((body) => ({ e, body }))),
        async ({ e, body }) => {
          const r = await ts.client.request(e.path, {
            method: e.method,
            raw: JSON.stringify(body),
            token: ts.adminToken,
          });
          check(r.status, r.text, `${e.method} ${e.path}`);
        },
      ),
      { numRuns: RUNS * 4, seed: SEED },
    );
  });

  it('arbitrary bytes as a JSON body: 4xx with an error, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENTRIES), fc.uint8Array({ maxLength: 256 }), async (e, bytes) => {
        const r = await ts.client.request(e.path, {
          method: e.method,
          raw: Buffer.from(bytes),
          token: ts.adminToken,
          headers: { 'content-type': 'application/json' },
        });
        check(r.status, r.text, `${e.method} ${e.path}`);
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
  });

  it('mutated policy YAML and JSON text to the policy dry-run and PUT: never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedPolicy, fc.constantFrom('yaml', 'json'), fc.boolean(), async (text, format, put) => {
        const body = format === 'yaml' ? { text, format } : { text: JSON.stringify(text), format };
        const p = put ? '/api/v1/policy' : '/api/v1/policy/dry-run';
        const r = await ts.client.request(p, { method: put ? 'PUT' : 'POST', body, token: ts.adminToken });
        check(r.status, r.text, `${p} ${format}`);
      }),
      { numRuns: RUNS * 2, seed: SEED + 2 },
    );
  });

  it('mutated inventory text (CSV and JSON) to the device import: never 5xx', async () => {
    const csv = 'serial,hardware_uuid,owner\nC02FUZZ,6B29FC40-CA47-1067-B31D-00DD010662DA,ada@example.com\n';
    const json = JSON.stringify([{ serial: 'C02FUZZ', owner: 'ada@example.com' }]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(csv, json), fc.nat(), fc.string(), async (text, at, junk) => {
        const i = at % text.length;
        const mutated = text.slice(0, i) + junk + text.slice(i + 1);
        const r = await ts.client.request('/api/v1/devices/import', {
          body: { text: mutated, format: text === csv ? 'csv' : 'json', dry_run: true },
          token: ts.adminToken,
        });
        check(r.status, r.text, 'devices/import');
      }),
      { numRuns: RUNS, seed: SEED + 3 },
    );
  });
});
