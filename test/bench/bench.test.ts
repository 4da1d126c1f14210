import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseStatCpuMs, parseStatusRss, cpuMs, rssBytes } from '../../server/bench/proc.js';
import { atLeast, below, exactly, fmt, judge, renderTable, type BenchRow } from '../../server/bench/table.js';
import { parseBenchArgs } from '../../server/bench/main.js';
import { buildRows } from '../../server/bench/rows.js';
import { QUICK } from '../../server/bench/figures.js';
import { closedLoop, pausableClock } from '../../server/bench/loops.js';
import { countLost, queryKeyOfLogName } from '../../server/bench/loss.js';
import { runAtSize } from '../../server/bench/run.js';
import {
  JEMALLOC_CONF,
  JEMALLOC_PATHS,
  REPO_ROOT,
  SERVER_NODE_ARGS,
  serverAllocator,
} from '../../server/bench/server-process.js';
import type { Fleet } from '../../server/sim/fleet.js';

describe('bench /proc readers', () => {
  it('reads utime+stime from a stat line whose command name holds spaces and parentheses', () => {
    const stat =
      '1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 5000 1000000 2000 ' +
      '18446744073709551615';
    expect(parseStatCpuMs(stat)).to.equal(3000);
  });

  it('reads VmRSS and VmHWM in bytes', () => {
    expect(parseStatusRss('Name:\tnode\nVmRSS:\t  204800 kB\nThreads:\t11\n')).to.equal(204800 * 1024);
    expect(parseStatusRss('VmHWM:\t  307200 kB\nVmRSS:\t  204800 kB\n', 'VmHWM')).to.equal(307200 * 1024);
    expect(() => parseStatusRss('VmRSS:\t  204800 kB\n', 'VmHWM')).to.throw(/no VmHWM/);
  });

  it('reads this process', () => {
    expect(cpuMs(process.pid)).to.be.greaterThan(0);
    expect(rssBytes(process.pid)).to.be.greaterThan(10 * 2 ** 20);
  });
});

describe('bench table', () => {
  const row: BenchRow = {
    name: 'verdict p99',
    unit: 'ms',
    values: new Map([
      [1000, 2.5],
      [100_000, 7.25],
    ]),
    target: below(5, '< 5 ms'),
  };

  it('judges only the largest fleet size against the target', () => {
    expect(judge(row, [1000, 100_000])).to.equal('MISS');
    expect(judge(row, [1000])).to.equal('pass');
    expect(judge({ ...row, target: exactly(0, '0'), values: new Map([[10, 0]]) }, [10])).to.equal('pass');
    expect(judge({ ...row, target: atLeast(50, '≥ 50 %'), values: new Map([[10, 'n/a']]) }, [10])).to.equal('n/a');
  });

  it('renders one line per figure with a column per size, the target and pass/miss', () => {
    const text = renderTable([row], [1000, 100_000]);
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^figure\s+1k hosts\s+100k hosts\s+target\s+at 100k hosts$/);
    expect(lines[2]).to.match(/^verdict p99 \(ms\)\s+2\.50\s+7\.25\s+< 5 ms\s+MISS$/);
    expect(fmt(123456.7)).to.equal('123,457');
    expect(fmt(null)).to.equal('n/a');
  });

  it('parses --hosts lists and refuses unknown options', () => {
    expect(parseBenchArgs([]).sizes).to.deep.equal([1000, 10_000, 100_000]);
    expect(parseBenchArgs(['--hosts', '10000,1000']).sizes).to.deep.equal([1000, 10_000]);
    expect(parseBenchArgs(['--hosts=5k', '--quick']).sizes).to.deep.equal([5000]);
    expect(() => parseBenchArgs(['--nope'])).to.throw('unknown option');
  });
});

describe('bench helpers', () => {
  it('pausableClock stands still while paused and resumes without a jump', async () => {
    const c = pausableClock();
    c.pause();
    const a = c.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(c.now()).to.equal(a);
    c.resume();
    expect(c.now() - a).to.be.lessThan(15);
  });

  it('closedLoop keeps the given number of operations in flight over every host', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen = new Set<number>();
    const n = await closedLoop(5, 3, 0.1, async (i) => {
      seen.add(i);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    });
    expect(n).to.be.greaterThan(10);
    expect(peak).to.equal(3);
    expect([...seen].sort()).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('countLost compares acknowledged sets with latest_results and counts only missing or different ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-lost-'));
    const file = path.join(dir, 'db.sqlite');
    const db = new Database(file);
    db.exec(
      'CREATE TABLE hosts (id INTEGER PRIMARY KEY, serial TEXT); ' +
        'CREATE TABLE latest_results (host_id INTEGER, query_key TEXT, rows TEXT, observed_at INTEGER)',
    );
    db.prepare('INSERT INTO hosts VALUES (1, ?), (2, ?)').run('S1', 'S2');
    const ins = db.prepare('INSERT INTO latest_results VALUES (?, ?, ?, ?)');
    ins.run(1, 'p/a', JSON.stringify([{ x: '1', y: '2' }]), 1000_000);
    ins.run(1, 'p/b', JSON.stringify([{ x: '9' }]), 1000_000);
    ins.run(2, 'p/a', JSON.stringify([{ x: '5' }]), 9000_000);
    db.close();
    const sets: Record<
      number,
      Array<{ logName: string; rows: Array<Record<string, string>>; exact: boolean; unixTime: number }>
    > = {
      0: [
        { logName: 'pack/p/a', rows: [{ y: '2', x: '1' }], exact: true, unixTime: 1000 }, // same rows, other key order
        { logName: 'pack/p/b', rows: [{ x: '8' }], exact: true, unixTime: 1000 }, // different: lost
        { logName: 'pack/p/c', rows: [], exact: true, unixTime: 1000 }, // missing: lost
        { logName: 'pack/p/d', rows: [], exact: false, unixTime: 1000 }, // not comparable
      ],
      1: [{ logName: 'pack/p/a', rows: [{ x: '4' }], exact: true, unixTime: 1000 }], // stored set is newer
    };
    const fleet = {
      ackedSets: (i: number) => sets[i] ?? [],
      agent: (i: number) => ({ serial: i === 0 ? 'S1' : 'S2' }),
    } as unknown as Fleet;
    try {
      expect(countLost(file, fleet, 2)).to.deep.equal({ checked: 4, lost: 2 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(queryKeyOfLogName('pack/posture-macos/macos_sip')).to.equal('posture-macos/macos_sip');
  });
});

describe('server node flags and allocator', () => {
  const startSh = fs.readFileSync(path.join(REPO_ROOT, 'server/cli/start.sh'), 'utf8');

  it('the bench starts the server with the same node flags as `npm start` (server/cli/start.sh)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['start']).to.equal('sh server/cli/start.sh');
    expect(SERVER_NODE_ARGS).to.have.length.greaterThan(0);
    expect(startSh).to.include(`exec node ${SERVER_NODE_ARGS.join(' ')} "$dir/bin.js" serve "$@"`);
  });

  it('looks for jemalloc where `npm start` looks, in the same order, with the same settings', () => {
    const listed = [...startSh.matchAll(/^\s+(\/usr\/\S+libjemalloc\.so\.2)/gm)].map((m) => m[1]);
    expect(listed).to.deep.equal([...JEMALLOC_PATHS]);
    expect(startSh).to.include(`MALLOC_CONF="\${MALLOC_CONF:-${JEMALLOC_CONF}}"`);
  });

  it('auto: jemalloc when installed, else the system allocator; jemalloc demanded and missing is an error', () => {
    const system = { env: {}, label: 'the C library malloc' };
    const jemalloc = (lib: string) => ({
      env: { LD_PRELOAD: lib, MALLOC_CONF: JEMALLOC_CONF },
      label: `jemalloc (LD_PRELOAD=${lib}, MALLOC_CONF=${JEMALLOC_CONF})`,
    });
    const lib = JEMALLOC_PATHS[2] ?? '';
    expect(serverAllocator('system', () => true)).to.deep.equal(system);
    expect(serverAllocator('auto', (file) => file === lib)).to.deep.equal(jemalloc(lib));
    expect(serverAllocator('auto', () => false)).to.deep.equal(system);
    expect(serverAllocator('jemalloc', (file) => file === lib)).to.deep.equal(jemalloc(lib));
    // a library named by TRUSTGATE_JEMALLOC comes before the distributions' directories
    expect(serverAllocator('auto', () => true, '/opt/je/libjemalloc.so.2')).to.deep.equal(
      jemalloc('/opt/je/libjemalloc.so.2'),
    );
    expect(() => serverAllocator('jemalloc', () => false)).to.throw('apt-get install -y libjemalloc2');
    expect(() => serverAllocator('tcmalloc', () => true)).to.throw('use auto, jemalloc or system');
  });
});

describe('runAtSize (small fleet, real server process)', function () {
  this.timeout(180_000);
  it('measures every figure of the table at 12 hosts and loses no result', async () => {
    const f = await runAtSize({
      hosts: 12,
      cores: os.cpus().length,
      seed: 3,
      durations: { ...QUICK, phase: 0.5, http: 0.5, tls: 0.3, fixes: 1, outageHosts: 12, outageRuns: 2, fixSpread: 0 },
      // Polling every 2 s keeps the fix → access leg of this test short.
      serverEnv: { TRUSTGATE_DISTRIBUTED_INTERVAL: '2', TRUSTGATE_DURABLE_FSYNC: 'false' },
    });
    expect(f.enrollPerSec).to.be.greaterThan(0);
    expect(f.rssMiB).to.be.greaterThan(20);
    expect(f.peakRssMiB).to.be.at.least(f.rssMiB);
    expect(f.cpuMsPer1kReads).to.be.greaterThan(0);
    expect(f.batchesPerSec).to.be.greaterThan(0);
    expect(f.rowsPerSec, 'result rows arrived (a batch of a differential query may carry none)').to.be.greaterThan(0);
    expect(f.resultSetsChecked).to.be.greaterThan(12);
    expect(f.resultsLost).to.equal(0);
    expect(f.outageLost).to.equal(0);
    expect(f.verdictRps).to.be.greaterThan(0);
    expect(f.bareRps).to.be.greaterThan(0);
    expect(f.tlsFullPerSec).to.be.greaterThan(0);
    expect(f.firstReportSeconds).to.be.greaterThan(0);
    // 12 first reports can take less than one clock tick (10 ms) of server CPU
    expect(f.cpuMsPer1kFirstReports).to.be.at.least(0).and.satisfy(Number.isFinite);
    expect(f.verdictFixedRate).to.be.greaterThan(0);
    // a second or two of a 12-host fleet can round to zero clock ticks of server CPU
    expect(f.paceCores).to.be.at.least(0).and.satisfy(Number.isFinite);
    expect(f.paceReadsPerSec).to.be.greaterThan(0);
    // one person through the remediation page, one admin recheck
    expect(f.fixAccessMeasured).to.equal(1);
    expect(f.adminFixAccessMeasured).to.equal(1);
    expect(f.fixAccessP95).to.be.lessThan(30);
    expect(f.coldStartMs).to.be.greaterThan(0);
    // device identity: the same phases with client certificates, and an inventory import
    expect(f.certHosts).to.equal(12);
    expect(f.certEnrollPerSec).to.be.greaterThan(0);
    expect(f.certCpuMsPer1kReads).to.be.greaterThan(0);
    expect(f.certTlsFullPerSec).to.be.greaterThan(0);
    // forward auth with the certificate mapped by Trustgate: every sampled certificate maps to its device
    expect(f.certAuthzUnmapped).to.equal(0);
    expect(f.certAuthzP99).to.be.greaterThan(0);
    expect(f.inventoryImportSeconds).to.be.greaterThan(0);
    // enrollment-time checks: answered by the loaded fleet; a burst of new hosts gets complete verdicts
    expect(f.cpuMsPerEnrollmentAnswer).to.be.at.least(0).and.satisfy(Number.isFinite);
    expect([f.firstVerdictMeasured, f.firstVerdictIncomplete]).to.deep.equal([12, 0]);
    expect(f.firstVerdictP95).to.be.at.least(0).and.lessThan(30);
    expect(f.burstReadP99).to.be.greaterThan(0);
    const table = renderTable(buildRows([f], 2), [12]);
    expect(table).to.include('verdict ÷ bare Node (headline)');
    expect(table).to.include('with client certificates: hosts measured');
    expect(table).to.include('authz p50 / p99, certificate mapped by Trustgate');
    expect(table).to.include('enrollment → first complete verdict p95');
    expect(table.split('\n').length).to.be.greaterThan(30);
  });
});
