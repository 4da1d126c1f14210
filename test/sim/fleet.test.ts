import { expect } from 'chai';
import { ManualClock } from '../../server/shared/clock.js';
import { createFleet, calendarTime, type Fleet, type FleetOptions } from '../../server/sim/fleet.js';
import { createFakeServer, type FakeServer } from './fake-server.js';

const SECRET = 'this_is_a_deployment_secret';

const CONFIG = {
  options: { logger_tls_period: 10, distributed_interval: 60, pack_delimiter: '/', schedule_splay_percent: 10 },
  packs: {
    posture: {
      queries: {
        os: { query: 'SELECT name, version FROM os_version;', interval: 60, snapshot: true },
        fw: { query: 'SELECT global_state FROM alf;', interval: 60, platform: 'darwin' },
        bitlocker: { query: 'SELECT protection_status FROM bitlocker_info;', interval: 60, snapshot: true },
      },
    },
  },
};

interface Harness {
  clock: ManualClock;
  fake: FakeServer;
  fleet: Fleet;
  run(ms: number, step?: number): Promise<void>;
}

function harness(over: Partial<FleetOptions> = {}, config: unknown = CONFIG): Harness {
  const clock = new ManualClock();
  const fake = createFakeServer({ secret: SECRET, now: () => clock.now(), configFor: () => config });
  const fleet = createFleet({
    hosts: 3,
    transport: fake.transport,
    enrollSecret: SECRET,
    clock,
    autoTick: false,
    seed: 42,
    platformMix: { darwin: 1, windows: 0, linux: 0 },
    profile: 'compliant',
    driftPerHour: 0,
    ...over,
  });
  return {
    clock,
    fake,
    fleet,
    async run(ms, step = 500) {
      for (let t = 0; t < ms; t += step) {
        clock.advance(step);
        fleet.tick();
        await fleet.idle();
      }
    },
  };
}

const dataOf = (r: { body: Record<string, unknown> }): Array<Record<string, unknown>> =>
  Array.isArray(r.body['data']) ? (r.body['data'] as Array<Record<string, unknown>>) : [];

describe('simulated fleet', () => {
  it('enrolls every host with host_details like osqueryd (platform_type, four tables, its own serial)', async () => {
    const h = harness({ hosts: 6, platformMix: { darwin: 0.4, windows: 0.3, linux: 0.3 }, profile: 'mixed' });
    h.fleet.start();
    await h.run(1000);
    const enrolls = h.fake.byPath('/enroll');
    expect(enrolls).to.have.length(6);
    for (const [i, e] of enrolls.entries()) {
      expect(e.body['enroll_secret']).to.equal(SECRET);
      expect(e.body).to.not.have.property('node_key');
      expect(e.headers).to.not.have.property('Authorization');
      const details = e.body['host_details'] as Record<string, Record<string, string>>;
      expect(Object.keys(details).sort()).to.deep.equal(['os_version', 'osquery_info', 'platform_info', 'system_info']);
      for (const table of Object.values(details)) for (const v of Object.values(table)) expect(v).to.be.a('string');
      const serial = details['system_info']?.['hardware_serial'];
      const agent = [0, 1, 2, 3, 4, 5].map((j) => h.fleet.agent(j)).find((a) => a.serial === serial);
      expect(agent, `enroll ${i} names a simulated host`).to.not.equal(undefined);
      const expected = { darwin: '21', windows: '2', linux: '9' }[agent?.platform ?? 'linux'];
      expect(e.body['platform_type']).to.equal(expected);
      expect(details['osquery_info']?.['config_valid']).to.equal('0');
      expect(details['system_info']?.['uuid']).to.equal(h.fleet.identity(agent?.index ?? 0).uuid);
    }
    expect(h.fleet.stats().enrolled).to.equal(6);
    await h.fleet.stop();
  });

  it('fetches config, runs queries with splay, sends every logger_tls_period: results before statuses', async () => {
    const h = harness();
    h.fleet.start();
    await h.run(150_000);
    expect(h.fake.byPath('/config')).to.have.length(3);
    const logs = h.fake.byPath('/log');
    const results = logs.filter((r) => r.body['log_type'] === 'result');
    expect(results.length).to.be.greaterThan(0);
    const lines = results.flatMap(dataOf);
    const snapshot = lines.find((l) => l['name'] === 'pack/posture/os');
    expect(snapshot?.['action']).to.equal('snapshot');
    expect(snapshot?.['snapshot']).to.deep.equal([
      { name: 'macOS', version: (snapshot?.['snapshot'] as Array<Record<string, string>>)[0]?.['version'] },
    ]);
    expect(snapshot?.['counter']).to.equal(0);
    expect(snapshot?.['hostIdentifier']).to.be.a('string');
    const fw = lines.find((l) => l['name'] === 'pack/posture/fw');
    expect(fw?.['action']).to.equal('added');
    expect(fw?.['columns']).to.deep.equal({ global_state: '1' });
    // The windows-only table fails as osquery would: a status line, no result line.
    expect(lines.some((l) => l['name'] === 'pack/posture/bitlocker')).to.equal(false);
    const statuses = logs.filter((r) => r.body['log_type'] === 'status').flatMap(dataOf);
    const err = statuses.find((s) => String(s['message']).includes('bitlocker'));
    expect(err?.['message']).to.equal(
      'Error executing scheduled query pack/posture/bitlocker: no such table: bitlocker_info',
    );
    expect(err?.['severity']).to.be.oneOf([2, '2']);
    // Runs happen on multiples of each host's splayed interval (60 ± 6 s).
    const times = lines.filter((l) => l['name'] === 'pack/posture/os').map((l) => Number(l['unixTime']));
    for (const t of times) expect([...Array(13).keys()].map((k) => 54 + k).some((v) => t % v === 0)).to.equal(true);
    // Each flush posts results first, then statuses (same agent, same instant).
    for (let i = 1; i < logs.length; i++) {
      const a = logs[i - 1];
      const b = logs[i];
      if (a && b && a.at === b.at && a.body['node_key'] === b.body['node_key']) {
        expect([a.body['log_type'], b.body['log_type']]).to.deep.equal(['result', 'status']);
      }
    }
    // Log bodies are gzipped (logger_tls_compress in Trustgate's flag file); others never are.
    expect(logs.every((r) => r.gzip)).to.equal(true);
    expect(h.fake.byPath('/config').every((r) => !r.gzip)).to.equal(true);
    expect(calendarTime(1625200416)).to.equal('Fri Jul  2 04:33:36 2021 UTC');
    await h.fleet.stop();
  });

  it('caps a batch at logger_tls_max_lines and keeps the rest for the next period', async () => {
    const config = { ...CONFIG, options: { ...CONFIG.options, logger_tls_max_lines: 2 } };
    const h = harness({ hosts: 1 }, config);
    h.fleet.start();
    await h.run(200_000);
    const logs = h.fake.byPath('/log');
    expect(logs.length).to.be.greaterThan(2);
    for (const r of logs) expect(dataOf(r).length).to.be.at.most(2);
    await h.fleet.stop();
  });

  it('keeps buffered logs, backs off period·n² while the server answers error, then delivers them all', async () => {
    const h = harness({ hosts: 1 });
    h.fleet.start();
    await h.run(2_000);
    h.fake.mode.log = 'error';
    await h.run(400_000, 1000);
    const failing = h.fake.byPath('/log').filter((r) => r.body['log_type'] === 'result');
    const gaps = failing.slice(1).map((r, i) => Math.round((r.at - (failing[i]?.at ?? 0)) / 1000));
    // 10·1², 10·2², 10·3², … (plus one period of polling granularity).
    expect(gaps.slice(0, 4)).to.deep.equal([10, 40, 90, 160]);
    expect(h.fleet.stats().resultLinesAcked).to.equal(0);
    const buffered = h.fleet.agent(0).buffered;
    expect(buffered).to.be.greaterThan(5);
    h.fake.mode.log = 'ok';
    await h.run(400_000, 1000);
    const s = h.fleet.stats();
    expect(s.resultLinesAcked).to.be.at.least(buffered - 5);
    const delivered = h.fake
      .byPath('/log')
      .filter((r) => r.body['log_type'] === 'result')
      .slice(failing.length)
      .flatMap(dataOf);
    const first = Math.min(...delivered.map((l) => Number(l['unixTime'])));
    // Lines produced during the outage arrive afterwards.
    expect(first * 1000).to.be.lessThan(failing[1]?.at ?? 0);
    await h.fleet.stop();
  });

  it('re-enrolls when the server answers node_invalid, then carries on with the new key', async () => {
    const h = harness({ hosts: 2 });
    h.fleet.start();
    await h.run(5_000);
    const firstKeys = new Set(h.fake.byPath('/config').map((r) => r.body['node_key']));
    h.fake.invalidateAll();
    await h.run(130_000);
    expect(h.fake.byPath('/enroll')).to.have.length(4);
    expect(h.fleet.stats().nodeInvalid).to.be.greaterThan(0);
    const later = h.fake.byPath('/distributed/read').slice(-2);
    for (const r of later) {
      expect(firstKeys.has(r.body['node_key'])).to.equal(false);
      expect(h.fake.serialOfKey(String(r.body['node_key']))).to.be.a('string');
    }
    await h.fleet.stop();
  });

  it('answers distributed queries with rows, statuses and messages; polls every 5 s while accelerated', async () => {
    const h = harness({ hosts: 1 });
    h.fleet.start();
    await h.run(2_000);
    const serial = h.fleet.agent(0).serial;
    h.fake.queue.set(serial, { q1: 'SELECT global_state FROM alf;', q2: 'SELECT * FROM bitlocker_info;' });
    h.fake.accelerate = 60;
    await h.run(120_000);
    const writes = h.fake.byPath('/distributed/write');
    expect(writes).to.have.length(1);
    const w = writes[0]?.body ?? {};
    expect(w['queries']).to.deep.equal({ q1: [{ global_state: '1' }], q2: [] });
    expect(w['statuses']).to.deep.equal({ q1: 0, q2: 1 });
    expect(w['messages']).to.deep.equal({ q1: '', q2: 'no such table: bitlocker_info' });
    expect(Object.keys(w['stats'] as object).sort()).to.deep.equal(['q1', 'q2']);
    expect(w['node_key']).to.be.a('string');
    const reads = h.fake.byPath('/distributed/read');
    const after = reads.filter((r) => r.at > (writes[0]?.at ?? 0));
    const gaps = after.slice(1).map((r, i) => (r.at - (after[i]?.at ?? 0)) / 1000);
    expect(gaps.length).to.be.greaterThan(5);
    for (const g of gaps.slice(0, 5)) expect(g).to.equal(5);
    await h.fleet.stop();
  });

  it('logs a differential query as added/removed lines with an increasing counter when the host drifts', async () => {
    const h = harness({ hosts: 1 });
    h.fleet.start();
    await h.run(70_000);
    const base = h.fleet.agent(0).profile;
    h.fleet.setProfile(0, `${base}+firewall_off`);
    await h.run(140_000);
    const lines = h.fake
      .byPath('/log')
      .flatMap(dataOf)
      .filter((l) => l['name'] === 'pack/posture/fw');
    expect(
      lines.map((l) => [l['action'], (l['columns'] as Record<string, string>)['global_state'], l['counter']]),
    ).to.deep.equal([
      ['added', '1', 0],
      ['removed', '1', 1],
      ['added', '0', 1],
    ]);
    expect(h.fleet.stats().failing).to.equal(1);
    h.fleet.fix(0);
    expect(h.fleet.agent(0).profile).to.equal(base);
    await h.fleet.stop();
  });

  it('sends Authorization: NodeKey only from osquery 5.23 and status fields as numbers only from 5.10', async () => {
    const h = harness({ hosts: 40, profile: 'mixed' });
    h.fleet.start();
    await h.run(30_000);
    const byKey = new Map<string, string>();
    for (const a of [...Array(40).keys()].map((i) => h.fleet.identity(i))) byKey.set(a.serial, a.osqueryVersion);
    const versionOf = (key: unknown): string => byKey.get(h.fake.serialOfKey(String(key)) ?? '') ?? '';
    const cmp = (v: string, min: number[]): boolean => {
      const p = v.split('.').map(Number);
      for (let i = 0; i < 3; i++) if ((p[i] ?? 0) !== (min[i] ?? 0)) return (p[i] ?? 0) > (min[i] ?? 0);
      return true;
    };
    let withHeader = 0;
    for (const r of h.fake.requests.filter((x) => !x.path.endsWith('/enroll'))) {
      const v = versionOf(r.body['node_key']);
      expect(v, 'known host').to.not.equal('');
      const has = r.headers['Authorization'] === `NodeKey ${String(r.body['node_key'])}`;
      expect(has).to.equal(cmp(v, [5, 23, 0]));
      if (has) withHeader++;
    }
    expect(withHeader).to.be.greaterThan(0);
    for (const r of h.fake.byPath('/log').filter((x) => x.body['log_type'] === 'status')) {
      const numeric = cmp(versionOf(r.body['node_key']), [5, 10, 0]);
      for (const line of dataOf(r)) expect(typeof line['unixTime']).to.equal(numeric ? 'number' : 'string');
    }
    await h.fleet.stop();
  });

  it('shares one result per profile and tick across hosts', async () => {
    const h = harness({ hosts: 30 });
    h.fleet.start();
    await h.run(130_000);
    const s = h.fleet.engine.stats();
    expect(s.sharedHits).to.be.greaterThan(0);
    // 30 hosts × 2 queries × 2 runs, but only a few distinct (profile, query, second) results.
    expect(h.fleet.stats().queriesRun).to.be.at.least(100);
    expect(s.runs).to.be.lessThan(h.fleet.stats().queriesRun / 2);
    await h.fleet.stop();
  });

  it('reportOneNow runs one scheduled query per call and sends it alone, round robin over the schedule', async () => {
    const h = harness({ hosts: 1 });
    await h.fleet.startNow();
    h.fleet.pauseSchedules();
    const before = h.fake.byPath('/log').length;
    for (let k = 0; k < 4; k++) await h.fleet.reportOneNow(0);
    const logs = h.fake.byPath('/log').slice(before);
    const results = logs.filter((r) => r.body['log_type'] === 'result').map((r) => dataOf(r).map((l) => l['name']));
    // the schedule is os, fw, bitlocker: bitlocker_info does not exist on darwin, so its run is an error status
    expect(results).to.deep.equal([['pack/posture/os'], ['pack/posture/fw'], ['pack/posture/os']]);
    const statuses = logs
      .filter((r) => r.body['log_type'] === 'status')
      .flatMap((r) => dataOf(r).map((l) => String(l['message'])));
    expect(statuses.some((m) => m.includes('pack/posture/bitlocker'))).to.equal(true);
    await h.fleet.stop();
  });

  it('retries enrollment with min(n², 600) s sleeps while the server refuses it', async () => {
    const h = harness({ hosts: 1 });
    h.fake.mode.enroll = 'node_invalid';
    h.fleet.start();
    await h.run(40_000, 250);
    const at = h.fake.byPath('/enroll').map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => Math.round((t - (at[i] ?? 0)) / 1000));
    expect(gaps.slice(0, 4)).to.deep.equal([1, 4, 9, 16]);
    expect(h.fleet.stats().enrolled).to.equal(0);
    await h.fleet.stop();
  });
  it('sends a host with its own connection through that connection only (ownConnection)', async () => {
    const h = harness();
    const own: string[] = [];
    h.fleet.ownConnection(1, {
      inFlight: () => 0,
      close: () => undefined,
      post(path, body, o) {
        own.push(path);
        return h.fake.transport.post(path, body, o);
      },
    });
    h.fleet.start();
    await h.run(30_000);
    await h.fleet.pollNow(1);
    expect(own.filter((p) => p.endsWith('/enroll'))).to.have.length(1);
    expect(own.some((p) => p.endsWith('/read'))).to.equal(true);
    // the host's enroll went through its own connection, and only its own: the other two came through the pool
    const serial = h.fleet.agent(1).serial;
    const enrolls = h.fake
      .byPath('/enroll')
      .map(
        (r) =>
          ((r.body['host_details'] as Record<string, Record<string, string>>)['system_info'] ?? {})['hardware_serial'],
      );
    expect(enrolls).to.have.members([h.fleet.agent(0).serial, serial, h.fleet.agent(2).serial]);
    const keyOf1 = h.fake.requests.filter(
      (r) => r.path.endsWith('/read') && h.fake.serialOfKey(String(r.body['node_key'])) === serial,
    ).length;
    expect(own.filter((p) => p.endsWith('/read'))).to.have.length(keyOf1);
    await h.fleet.stop();
  });
});
