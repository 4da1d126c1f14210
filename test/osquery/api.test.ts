/**
 * The osquery TLS remote API over real HTTPS against a real SQLite file, fed with real osquery payloads.
 */
import { expect } from 'chai';
import { packsScheduling, startTestServer, type TestServer } from '../support/server.js';
import { must } from '../support/must.js';
import { askForCarve } from './carve-request.js';
import { enrollFrom, OSQ, snapshotLine, takeEnrollmentChecks } from './agent.js';
import { fixture, fixtureNames } from './fixtures.js';

const LINUX = 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json';
const DARWIN = 'enroll-request-darwin10.14.6-osquery4.6.0.json';
const WIN11 = 'enroll-request-windows11-osquery5.4.0.json';
const WIN_OLD = 'enroll-request-windows-osquery2.7-no-host-details.json';

describe('osquery TLS API (HTTPS, real store)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  /** Each result fixture is reported as its own scheduled query (results of unscheduled ones are not stored). */
  const fixtureQuery = (f: string): string => f.replace(/\.json$/, '').replace(/[^A-Za-z0-9_]/g, '_');
  before(async () => {
    ts = await startTestServer({
      packsDir: packsScheduling({ t: ['snap', 'diff', 'ev'], fixtures: fixtureNames('log-result-').map(fixtureQuery) }),
    });
  });
  after(async () => {
    await ts.stop();
  });

  const admin = (path: string) => ts.client.request(`/api/v1${path}`, { token: ts.adminToken });

  describe('POST /api/v1/osquery/enroll', () => {
    for (const f of [LINUX, DARWIN, WIN11, WIN_OLD]) {
      it(`enrolls from ${f} and answers a node key`, async () => {
        const a = await enrollFrom(ts.client, ts.enrollSecret, f);
        expect(a.nodeKey).to.match(/^[A-Za-z0-9_-]{43}$/);
        const r = await admin(`/hosts/${encodeURIComponent(a.serial)}`);
        expect(r.status).to.equal(200);
      });
    }

    it('records the hardware serial as the device key and the platform', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, DARWIN, { serial: 'C02TESTSERIAL1' });
      const r = await admin(`/hosts/${a.serial}`);
      const host = (r.json as { host: { serial: string; platform: string; hostname: string } }).host;
      expect(host).to.include({ serial: 'C02TESTSERIAL1', platform: 'darwin' });
    });

    it('answers node_invalid with an error and 401 for a wrong enroll secret', async () => {
      const body = { ...fixture(LINUX), enroll_secret: 'wrong-secret' };
      const r = await ts.client.request(`${OSQ}/enroll`, { body });
      expect(r.status).to.equal(401);
      expect(r.json).to.deep.include({ node_invalid: true });
      expect(r.json).to.have.property('error');
      expect(r.json).not.to.have.property('node_key');
    });

    it('keeps one host record when a device re-enrolls, and revokes the old node key', async () => {
      const first = await enrollFrom(ts.client, ts.enrollSecret, LINUX, {
        serial: 'REENROLL-1',
        uuid: 'uuid-reenroll-1',
      });
      const second = await enrollFrom(ts.client, ts.enrollSecret, LINUX, {
        serial: 'REENROLL-1',
        uuid: 'uuid-reenroll-1',
      });
      expect(second.nodeKey).not.to.equal(first.nodeKey);
      const old = await first.post('/config', {});
      expect(old.status).to.equal(401);
      expect(old.json).to.deep.include({ node_invalid: true });
      expect((await second.post('/config', {})).status).to.equal(200);
      const r = await admin('/hosts?search=REENROLL-1');
      expect((r.json as { hosts: unknown[] }).hosts).to.have.length(1);
    });

    it('keeps two devices of one serial apart: the first stays, the second waits (secret mode)', async () => {
      await enrollFrom(ts.client, ts.enrollSecret, WIN11, { serial: 'DUP-SERIAL', uuid: 'uuid-dup-a' });
      await enrollFrom(ts.client, ts.enrollSecret, WIN11, { serial: 'DUP-SERIAL', uuid: 'uuid-dup-b' });
      const r = await admin('/hosts/DUP-SERIAL');
      const body = r.json as {
        host: { serial_conflict: boolean; hardware_uuid: string };
        conflicting_hosts: Array<{ hardware_uuid: string; serial_conflict: boolean }>;
      };
      expect(body.host).to.include({ serial_conflict: false, hardware_uuid: 'uuid-dup-a' });
      expect(body.conflicting_hosts.map((h) => [h.hardware_uuid, h.serial_conflict])).to.deep.equal([
        ['uuid-dup-a', false],
        ['uuid-dup-b', true],
      ]);
      const pending = await admin('/pending-devices');
      const hosts = (pending.json as { hosts: Array<{ serial: string; pending_reason: string }> }).hosts;
      expect(hosts.filter((h) => h.serial === 'DUP-SERIAL').map((h) => h.pending_reason)).to.deep.equal([
        'serial_conflict',
      ]);
    });
  });

  describe('POST /api/v1/osquery/config', () => {
    it('returns strict JSON options and only the packs for the host platform, with checks stripped', async () => {
      const linux = await enrollFrom(ts.client, ts.enrollSecret, LINUX, {
        serial: 'CFG-LINUX',
        uuid: 'uuid-cfg-linux',
      });
      const r = await linux.post('/config', {});
      expect(r.status).to.equal(200);
      const cfg = JSON.parse(r.text) as {
        options: Record<string, unknown>;
        packs: Record<string, { platform?: string; queries: Record<string, Record<string, unknown>> }>;
      };
      expect(cfg.options).to.include({ pack_delimiter: '/', disable_distributed: false });
      expect(r.text.length).to.be.below(4 * 1024 * 1024);
      expect(r.text).not.to.contain('"check"');
      const packNames = Object.keys(cfg.packs);
      expect(packNames.length).to.be.greaterThan(0);
      for (const p of Object.values(cfg.packs)) {
        if (p.platform) expect(p.platform).to.match(/linux|posix|any|all|ubuntu/);
        for (const q of Object.values(p.queries))
          if (typeof q.platform === 'string') expect(q.platform).to.match(/linux|posix|any|all|ubuntu/);
      }
      expect(packNames.join(' ')).not.to.match(/windows|macos|darwin/);
    });

    it('accepts the node key from the Authorization: NodeKey header (osquery 5.23)', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, DARWIN, { serial: 'HDR-1', uuid: 'uuid-hdr-1' });
      const r = await a.post('/config', {}, { header: true });
      expect(r.status).to.equal(200);
      expect(r.json).to.have.property('packs');
    });

    it('answers node_invalid for an unknown or missing node key', async () => {
      for (const body of [{ node_key: 'not-a-key' }, {}]) {
        const r = await ts.client.request(`${OSQ}/config`, { body });
        expect(r.status).to.equal(401);
        expect(r.json).to.deep.include({ node_invalid: true });
      }
    });

    it('serves the unversioned /api/osquery paths with the same handlers', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'UNV-1', uuid: 'uuid-unv-1' });
      const r = await ts.client.request('/api/osquery/config', { body: { node_key: a.nodeKey } });
      expect(r.status).to.equal(200);
      expect(r.json).to.have.property('options');
    });
  });

  describe('POST /api/v1/osquery/log', () => {
    let a: Awaited<ReturnType<typeof enrollFrom>>;
    before(async () => {
      a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'LOG-1', uuid: 'uuid-log-1' });
    });
    const results = async (query?: string) => {
      const r = await admin(`/hosts/LOG-1/results${query ? `?query=${encodeURIComponent(query)}` : ''}`);
      return (r.json as { results: Array<{ query: string; rows: Array<Record<string, string>>; observed_at: string }> })
        .results;
    };

    for (const f of fixtureNames('log-result-')) {
      it(`acknowledges ${f} with {} and stores its rows`, async () => {
        const line = { ...fixture(f), name: `pack/fixtures/${fixtureQuery(f)}` };
        const r = await a.post('/log', { log_type: 'result', data: [line] });
        expect(r.status).to.equal(200);
        expect(r.json).to.deep.equal({});
        const name = line.name;
        const stored = await results(name.slice(5));
        expect(stored, `stored result for ${name}`).to.have.length(1);
      });
    }

    it('accepts a whole real request (Windows event format) and gzip bodies', async () => {
      const body = fixture('log-request-result-windows-event-format.json');
      const r = await a.post('/log', { log_type: body.log_type, data: body.data }, { gzip: true });
      expect(r.json).to.deep.equal({});
    });

    it('stores status logs old and new (string and number fields)', async () => {
      for (const f of fixtureNames('log-request-status-')) {
        const body = fixture(f);
        const r = await a.post('/log', { log_type: 'status', data: body.data });
        expect(r.json, f).to.deep.equal({});
      }
      const r = await admin('/hosts/LOG-1/status-logs');
      const logs = (r.json as { status_logs: Array<{ message: string; severity: number }> }).status_logs;
      expect(logs.length).to.be.greaterThan(1);
      expect(logs.every((l) => typeof l.severity === 'number')).to.equal(true);
    });

    it('replaces the set on snapshots and ignores results older than the stored ones', async () => {
      await a.post('/log', { log_type: 'result', data: [snapshotLine('pack/t/snap', 2000, [{ v: 'new' }])] });
      await a.post('/log', { log_type: 'result', data: [snapshotLine('pack/t/snap', 1000, [{ v: 'old' }])] });
      expect(must((await results('t/snap'))[0], 'the t/snap result').rows).to.deep.equal([{ v: 'new' }]);
      await a.post('/log', { log_type: 'result', data: [snapshotLine('pack/t/snap', 3000, [])] });
      expect(must((await results('t/snap'))[0], 'the t/snap result').rows).to.deep.equal([]);
    });

    it('maintains the latest set from differential results, idempotently on retry', async () => {
      const diff = (unixTime: number, counter: number, added: object[], removed: object[]) => ({
        diffResults: { added, removed },
        name: 'pack/t/diff',
        hostIdentifier: 'h',
        calendarTime: 'x',
        unixTime,
        epoch: 0,
        counter,
      });
      await a.post('/log', { log_type: 'result', data: [diff(100, 0, [{ p: '22' }, { p: '80' }], [])] });
      const step = { log_type: 'result', data: [diff(200, 1, [{ p: '443' }], [{ p: '80' }])] };
      await a.post('/log', step);
      await a.post('/log', step); // the agent retries after a lost answer
      const rows = must((await results('t/diff'))[0], 'the t/diff result').rows;
      expect(rows).to.have.deep.members([{ p: '22' }, { p: '443' }]);
      expect(rows).to.have.length(2);
    });

    it('groups event-format lines of one run into one change', async () => {
      const ev = (action: string, p: string) => ({
        name: 'pack/t/ev',
        hostIdentifier: 'h',
        calendarTime: 'x',
        unixTime: '50',
        epoch: '0',
        counter: '0',
        columns: { p },
        action,
      });
      await a.post('/log', { log_type: 'result', data: [ev('added', '1'), ev('added', '2')] });
      expect(must((await results('t/ev'))[0], 'the t/ev result').rows).to.have.length(2);
    });
  });

  describe('distributed read/write', () => {
    it('returns {queries:{}} when nothing is queued and stores live query results written back', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, WIN11, { serial: 'DIST-1', uuid: 'uuid-dist-1' });
      await takeEnrollmentChecks(a);
      const empty = await a.post('/distributed/read', {});
      expect((empty.json as { queries: object }).queries).to.deep.equal({});
      const q = await ts.client.request('/api/v1/queries', {
        token: ts.adminToken,
        body: { sql: 'SELECT 1 AS one', serials: ['DIST-1'] },
      });
      expect(q.status).to.equal(201);
      const id = (q.json as { id: string }).id;
      const read = await a.post('/distributed/read', {});
      const queries = (read.json as { queries: Record<string, string> }).queries;
      const qid = must(Object.keys(queries)[0], 'a queued query id');
      expect(queries[qid]).to.equal('SELECT 1 AS one');
      expect(read.json).not.to.have.property('accelerate');
      const w = await a.post('/distributed/write', {
        queries: { [qid]: [{ one: '1' }] },
        statuses: { [qid]: 0 },
        messages: { [qid]: '' },
      });
      expect(w.json).to.deep.equal({});
      const res = await ts.client.request(`/api/v1/queries/${id}`, { token: ts.adminToken });
      const answers = (res.json as { results: Array<{ rows: unknown[] }> }).results;
      expect(must(answers[0], 'the answer').rows).to.deep.equal([{ one: '1' }]);
    });

    it('accepts legacy ptree quirks ("" result sets, string statuses) and header-only auth', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'DIST-2', uuid: 'uuid-dist-2' });
      for (const f of fixtureNames('distributed-write-')) {
        const body = fixture(f);
        delete body.node_key;
        const r = await a.post('/distributed/write', body, { header: true });
        expect(r.json, f).to.deep.equal({});
      }
    });
  });

  describe('carves', () => {
    it('stores blocks and assembles the carve for the admin API when complete', async () => {
      const a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'CARVE-1', uuid: 'uuid-carve-1' });
      await (await askForCarve(ts, a)).answer('guid-1');
      const payload = Buffer.from('hello carve world! '.repeat(10));
      const blockSize = 64;
      const blocks = Math.ceil(payload.length / blockSize);
      const begin = await a.post('/carve/begin', {
        block_count: blocks,
        block_size: blockSize,
        carve_size: payload.length,
        carve_id: 'guid-1',
        request_id: 'req-1',
      });
      const sessionId = (begin.json as { session_id: string }).session_id;
      expect(sessionId).to.be.a('string').and.not.equal('');
      for (let i = blocks - 1; i >= 0; i--) {
        const r = await ts.client.request(`${OSQ}/carve/block`, {
          body: {
            block_id: i,
            session_id: sessionId,
            request_id: 'req-1',
            data: payload.subarray(i * blockSize, (i + 1) * blockSize).toString('base64'),
          },
        });
        expect(r.status).to.equal(200);
      }
      const data = await ts.client.request(`/api/v1/carves/${sessionId}/data`, { token: ts.adminToken });
      expect(data.status).to.equal(200);
      expect(data.text).to.equal(payload.toString());
    });
  });

  describe('bad input', () => {
    let a: Awaited<ReturnType<typeof enrollFrom>>;
    before(async () => {
      a = await enrollFrom(ts.client, ts.enrollSecret, LINUX, { serial: 'BAD-1', uuid: 'uuid-bad-1' });
      await takeEnrollmentChecks(a);
    });

    it('answers 400 with "error" for malformed or truncated JSON', async () => {
      for (const raw of ['{"node_key": "x", "log_type": "result", "data": [', 'not json', '']) {
        const r = await ts.client.request(`${OSQ}/log`, { raw });
        expect(r.status, raw).to.be.oneOf([400, 401]);
        expect(r.json, raw).to.satisfy((b: Record<string, unknown>) => 'error' in b || b.node_invalid === true);
      }
    });

    it('answers 400 with "error" for wrong types, never {}', async () => {
      const r = await a.post('/log', { log_type: 'result', data: 'nope' });
      expect(r.status).to.equal(400);
      expect(r.json).to.have.property('error');
      const r2 = await a.post('/log', { log_type: 'result', data: [{ name: 5, snapshot: [] }] });
      expect(r2.status).to.equal(400);
      expect(r2.json).to.have.property('error');
    });

    it('answers 413 for a body over the limit, also when it is only large after gzip decompression', async () => {
      const big = 'x'.repeat(9 * 1024 * 1024);
      const r = await a.post('/log', { log_type: 'status', data: [{ message: big }] });
      expect(r.status).to.equal(413);
      expect(r.json).to.have.property('error');
      const bomb = await a.post('/log', { log_type: 'status', data: [{ message: big }] }, { gzip: true });
      expect(bomb.status).to.equal(413);
      expect(bomb.json).to.have.property('error');
    });

    it('accepts deflate bodies, refuses other encodings and non-POST methods with an osquery error body', async () => {
      const zlib = await import('node:zlib');
      const raw = zlib.deflateSync(Buffer.from(JSON.stringify({ node_key: a.nodeKey, log_type: 'result', data: [] })));
      const ok = await ts.client.request(`${OSQ}/log`, { raw, headers: { 'content-encoding': 'deflate' } });
      expect(ok.status).to.equal(200);
      expect(ok.json).to.deep.equal({});
      const br = await ts.client.request(`${OSQ}/log`, { raw: '{}', headers: { 'content-encoding': 'br' } });
      expect(br.status).to.equal(400);
      expect((br.json as { error: string }).error).to.match(/unsupported content encoding "br"/);
      const corrupt = await ts.client.request(`${OSQ}/log`, {
        raw: Buffer.from('not gzip at all'),
        headers: { 'content-encoding': 'gzip' },
      });
      expect(corrupt.status).to.equal(400);
      expect(corrupt.json).to.have.property('error');
      const get = await ts.client.request(`${OSQ}/config`, { method: 'GET' });
      expect(get.status).to.equal(405);
      expect(get.headers.allow).to.equal('POST');
      expect(get.json).to.have.property('error');
    });

    it('answers a JSON array or scalar body with 400, and an empty body with node-key header auth', async () => {
      for (const raw of ['[]', '42', '"x"']) {
        const r = await ts.client.request(`${OSQ}/distributed/read`, { raw });
        expect(r.status, raw).to.be.oneOf([400, 401]);
        expect(r.json, raw).to.have.property('error');
      }
      const r = await ts.client.request(`${OSQ}/distributed/read`, {
        method: 'POST',
        headers: { authorization: `NodeKey ${a.nodeKey}` },
      });
      expect(r.status).to.equal(200);
      expect(r.json).to.deep.include({ queries: {}, node_invalid: false });
    });

    it('answers a JSON error (never {}) for an unknown osquery path', async () => {
      const r = await ts.client.request(`${OSQ}/logger`, {
        body: { node_key: a.nodeKey, log_type: 'result', data: [] },
      });
      expect(r.status).to.equal(404);
      expect(r.json).to.have.property('error');
    });
  });
});
