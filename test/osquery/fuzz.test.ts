/**
 * Property test over mutated real payloads: whatever arrives, the server answers with a JSON body that
 * osquery reads correctly — `{}` only when the request was valid and committed, otherwise a body with
 * "error" or node_invalid — and never a 5xx, never a crash.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { enrollFrom, OSQ } from './agent.js';
import { fixture, fixtureNames } from './fixtures.js';

/** Runs per property: TRUSTGATE_FUZZ_RUNS in the bench's long run (`npm run bench:fuzz`). */
const RUNS = Number(process.env.TRUSTGATE_FUZZ_RUNS ?? '') || 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Arbitrary structural mutations of a JSON value: drop/replace keys, change types, nest junk. */
function mutate(value: Json): fc.Arbitrary<Json> {
  const junk: fc.Arbitrary<Json> = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.constant(''),
    fc.constant([] as Json[]),
    fc.constant({} as Json),
    fc.string().map((s): Json => [s]),
    fc.dictionary(fc.string(), fc.string()),
  );
  const paths: string[][] = [];
  const walk = (v: Json, p: string[]) => {
    paths.push(p);
    if (p.length > 4) return;
    if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => walk(x, [...p, String(i)]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(value, []);
  return fc.tuple(fc.constantFrom(...paths), junk, fc.constantFrom('replace', 'delete', 'wrap')).map(([p, j, op]) => {
    const copy = structuredClone(value);
    if (p.length === 0) return op === 'wrap' ? [copy] : j;
    let parent: Json = copy;
    for (const k of p.slice(0, -1)) parent = must((parent as Record<string, Json>)[k], `the value at ${k}`);
    const last = must(p[p.length - 1], 'the last key of the path');
    const obj = parent as Record<string, Json>;
    if (op === 'delete') delete obj[last];
    else if (op === 'wrap')
      obj[last] = [obj[last] ?? null]; // the path exists: the value is never undefined
    else obj[last] = j;
    return copy;
  });
}

describe('osquery endpoints under mutated input (property)', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let nodeKey: string;
  before(async () => {
    ts = await startTestServer();
    nodeKey = (
      await enrollFrom(ts.client, ts.enrollSecret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
        serial: 'FUZZ-1',
        uuid: 'uuid-fuzz-1',
      })
    ).nodeKey;
  });
  after(async () => {
    await ts.stop();
  });

  const cases: Array<{ path: string; body: Json }> = [
    ...fixtureNames('log-result-').map((f) => ({
      path: '/log',
      body: { log_type: 'result', data: [fixture(f) as Json] } as Json,
    })),
    ...fixtureNames('log-request-').map((f) => ({ path: '/log', body: fixture(f) as Json })),
    ...fixtureNames('distributed-write-').map((f) => ({ path: '/distributed/write', body: fixture(f) as Json })),
    { path: '/enroll', body: fixture('enroll-request-windows11-osquery5.4.0.json') as Json },
    { path: '/carve/begin', body: fixture('carve-start-request.json') as Json },
    { path: '/carve/block', body: fixture('carve-continue-request.json') as Json },
    { path: '/config', body: {} },
    { path: '/distributed/read', body: {} },
  ];

  const check = (status: number, text: string, label: string) => {
    expect(status, `${label}: ${text.slice(0, 200)}`).to.be.below(500);
    const body = JSON.parse(text) as Record<string, unknown>;
    if (status >= 400)
      expect(
        'error' in body || body.node_invalid === true,
        `${label} failure body must say so: ${text.slice(0, 200)}`,
      ).to.equal(true);
  };

  it('answers structurally mutated payloads with a 4xx error body or a real success, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases).chain((c) => mutate(c.body).map((b) => ({ path: c.path, body: b }))),
        fc.boolean(),
        async (c, withKey) => {
          const body =
            withKey && c.body && typeof c.body === 'object' && !Array.isArray(c.body)
              ? { ...c.body, node_key: nodeKey }
              : c.body;
          const r = await ts.client.request(`${OSQ}${c.path}`, { raw: JSON.stringify(body) });
          check(r.status, r.text, c.path);
        },
      ),
      { numRuns: RUNS || 300, seed: 20261127 },
    );
  });

  it('answers truncated and byte-corrupted JSON with 400 and an error body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), fc.nat(), fc.nat(255), async (c, cut, byte) => {
        const text = JSON.stringify({ ...(c.body as object), node_key: nodeKey });
        const at = cut % Math.max(1, text.length);
        const corrupted = Buffer.from(text.slice(0, at));
        if (corrupted.length) corrupted[corrupted.length - 1] = byte;
        const r = await ts.client.request(`${OSQ}${c.path}`, { raw: corrupted });
        check(r.status, r.text, c.path);
      }),
      { numRuns: RUNS || 200, seed: 7 },
    );
  });

  it('still serves a valid agent after the storm', async () => {
    const r = await ts.client.request(`${OSQ}/config`, { body: { node_key: nodeKey } });
    expect(r.status).to.equal(200);
  });
});
