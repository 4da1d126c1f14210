/** The gateway-under-load suite's pure parts: arguments, wrk's script and output, the rows (no wrk needed). */
import { expect } from 'chai';
import { parseBenchArgs } from '../../server/bench/main.js';
import { gatewayRows, ratiosOf } from '../../server/bench/gateway-report.js';
import type { GatewayFigures, WrkRun } from '../../server/bench/gateway-suite.js';
import { abba } from '../../server/bench/loops.js';
import { mergeWrk, parseWrk, QUANTILE_STEPS, wrkMs, wrkScript, type WrkResult } from '../../server/bench/wrk.js';

const WRK_OUT = `Running 10s test @ https://127.0.0.1:4000/api/v1/verdict
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    0.80ms  21.33ms   90.00%
    Req/Sec    10.50k     1.20k   12.80k    70.00%
  Latency Distribution
     50%    1.40ms
     75%    1.70ms
     90%    2.10ms
     99%    4.25ms
  209812 requests in 10.00s, 80.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  20979.12
Transfer/sec:      8.01MB
`;

const load = { rps: 1000, p50: 1, p99: 2, non2xx: 0 };
const wrkResult = (rps: number, p99: number): WrkResult => ({
  rps,
  requests: rps * 10,
  seconds: 10,
  p50: 1,
  p99,
  non2xx: 0,
  quantiles: [],
});
const run = (vRps: number, bRps: number): WrkRun => ({
  verdict: wrkResult(vRps, 3),
  bare: wrkResult(bRps, 2),
  verdictCpuMs: 0.06,
  bareCpuMs: 0.04,
  load: 1.5,
  halves: [vRps / bRps - 0.05, vRps / bRps + 0.05],
});
const figures = (wrk: WrkRun[] | null): GatewayFigures => ({
  hosts: 10_000,
  authzIdle: { ...load, maxDelayMs: 5, load: 1 },
  authzStreams: { ...load, maxDelayMs: 6, streams: 2000, devices: 125, load: 1 },
  bundleRebuild: { gateway: load, maxDelayMs: 20, ms: 300 },
  policyReload: { gateway: load, maxDelayMs: 30, ms: 1500 },
  wrkAnswers: { sampled: 300, allow: 120, stale: 170 },
  wrk,
  wave: {
    verdict: { ...load, p99: 40, maxDelayMs: 30, cpuShare: 0.914 },
    bare: load,
    load: 2,
    fleetRate: 3210.4,
    answered: 700,
    seconds: 480.4,
  },
  steady: [3, 5, 2.5].map((p99, i) => ({
    verdict: { ...load, p99, maxDelayMs: 8, cpuShare: 0.42 },
    bare: load,
    load: 1,
    fleetRate: 400 + i,
  })),
});

describe('bench --gateway', () => {
  it('parses --gateway and --runs', () => {
    expect(parseBenchArgs(['--gateway', '--runs', '3', '--hosts', '10k'])).to.include({ gateway: true, runs: 3 });
    expect(parseBenchArgs([])).to.include({ gateway: false, runs: 5 });
  });

  it("reads wrk's --latency output, and the quantile function the script prints", () => {
    expect(parseWrk(WRK_OUT)).to.deep.equal({
      rps: 20979.12,
      requests: 209812,
      seconds: 10,
      p50: 1.4,
      p99: 4.25,
      non2xx: 3,
      quantiles: [],
    });
    const us = Array.from({ length: QUANTILE_STEPS }, (_, k) => 1000 + k);
    const withQ = parseWrk(`${WRK_OUT}quantiles_us ${us.join(' ')}\n`);
    expect(withQ.quantiles).to.have.length(QUANTILE_STEPS);
    expect([withQ.quantiles[0], withQ.quantiles[989], withQ.quantiles[999]]).to.deep.equal([1, 1.989, 1.999]);
    // a line cut short is not taken for a quantile function
    expect(parseWrk(`${WRK_OUT}quantiles_us 1000 2000\n`).quantiles).to.deep.equal([]);
    expect([wrkMs('812.00us'), wrkMs('2.5s'), wrkMs('x')]).to.deep.equal([0.812, 2500, Number.NaN]);
  });

  it("merges runs' percentiles by their requests, not by averaging or taking the worst run's", () => {
    const flat = (requests: number, ms: number): WrkResult => ({
      rps: requests / 5,
      requests,
      seconds: 5,
      p50: ms,
      p99: ms,
      non2xx: 1,
      quantiles: Array.from({ length: QUANTILE_STEPS }, () => ms),
    });
    // 1 % of all requests at 5 ms: the 99th percentile (nearest rank) is still 1 ms; 2 %: it is 5 ms
    const m1 = mergeWrk([flat(990, 1), flat(10, 5)]);
    expect(m1).to.deep.include({ requests: 1000, seconds: 10, rps: 100, p50: 1, p99: 1, non2xx: 2 });
    expect(mergeWrk([flat(980, 1), flat(20, 5)]).p99).to.equal(5);
    expect(m1.quantiles.at(-1)).to.equal(5);
    // a slice whose quantile function is missing leaves the percentiles unknown rather than guessed
    const partial = mergeWrk([flat(990, 1), { ...flat(10, 5), quantiles: [] }]);
    expect([partial.p50, partial.p99, partial.requests]).to.deep.equal([Number.NaN, Number.NaN, 1000]);
  });

  it('takes two loads in turn as A, B, B, A, A, B, B, A', () => {
    expect(Array.from({ length: 8 }, (_, k) => abba(k))).to.deep.equal([0, 1, 1, 0, 0, 1, 1, 0]);
  });

  it('has the wrk script print the quantile function at the end of a run', () => {
    const lua = wrkScript(['/a'], {});
    expect(lua).to.contain('function done(summary, latency, requests)');
    expect(lua).to.contain('for k = 1, 999 do q[k] = latency:percentile(k * 100 / 1000) end');
    // wrk's percentile(100) answers 0 (it ranks past its last sample): the top point is the maximum
    expect(lua).to.contain('q[1000] = latency.max');
  });

  it('writes a Lua script that varies the path over the given list, with the headers', () => {
    const lua = wrkScript(['/a?s=1', '/a?s=2'], { authorization: 'Bearer x' });
    expect(lua).to.contain('wrk.headers["authorization"] = "Bearer x"');
    expect(lua).to.contain('local paths = { "/a?s=1", "/a?s=2" }');
    expect(lua).to.contain('return wrk.format("GET", paths[i])');
  });

  it('reports every wrk run and the medians as ratios to bare Node, or says wrk was skipped', () => {
    expect(ratiosOf(run(600, 1000))).to.deep.include({ rps: 0.6, p99: 1.5 });
    const rows = gatewayRows(figures([run(600, 1000), run(500, 1000), run(700, 1000)]));
    const median = rows.find((r) => r[0].startsWith('verdict ÷ bare Node req/s with wrk, median'));
    expect(median?.[1]).to.equal('0.600 (0.500)');
    expect(rows.filter((r) => r[0].startsWith('wrk run '))).to.have.length(3);
    // each run's ratio, with the ratio in each of its halves (how far the machine drifted within it)
    const second = rows.find((r) => r[0].startsWith('  run 2: req/s ratio (each half)'));
    expect(second?.[1]).to.equal('0.500 (0.450, 0.550), 1.50×, 1.50×');
    const skipped = gatewayRows(figures(null)).find((r) => r[0].startsWith('verdict ÷ bare Node with wrk'));
    expect(skipped?.[1]).to.match(/skipped/);
  });

  it('says what the verdicts wrk asks for answer (allow, naming stale checks), wrk or not', () => {
    for (const wrk of [null, [run(600, 1000)]]) {
      const mix = gatewayRows(figures(wrk)).find((r) => r[0].startsWith('the verdicts wrk asks for'));
      expect(mix?.[1]).to.equal('120 / 170 of 300');
    }
  });

  it('reports the rate under ingest during the first distributed wave and after it, the target on the latter', () => {
    const rows = gatewayRows(figures(null));
    const wave = rows.find((r) => r[0].includes("in the fleet's first distributed wave"));
    expect(wave?.[1]).to.equal(
      '40.00 / 2.00 ms = 20.00× (max loop delay 30.0 ms, server CPU 91 % of a core, fleet 3210 req/s)',
    );
    expect(wave?.[2]).to.equal('');
    // every steady window, in the order they ran, then the median of their ratios with the target
    const windows = rows.filter((r) => /^steady 1000 req\/s under ingest, window \d/.test(r[0]));
    expect(windows.map((r) => /window (\d)/.exec(r[0])?.[1])).to.deep.equal(['1', '2', '3']);
    expect(windows[1]?.[1]).to.equal(
      '5.00 / 2.00 ms = 2.50× (max loop delay 8.0 ms, server CPU 42 % of a core, fleet 401 req/s)',
    );
    expect(windows.every((r) => r[2] === '')).to.equal(true);
    const median = rows.find((r) => r[0].includes('the fleet at its own pace: verdict p99 ÷ bare p99, median of 3'));
    expect(median?.[1]).to.equal('1.50×');
    expect(median?.[2]).to.equal('≤ 2×');
  });

  it('says how many hosts answered in the first wave, and when the wait was cut at its cap', () => {
    const answeredRow = (answered: number) =>
      gatewayRows({ ...figures(null), wave: { ...figures(null).wave, answered } }).find((r) =>
        r[0].includes('hosts that answered their enrollment-time checks'),
      )?.[1];
    expect(answeredRow(700)).to.equal('700 of 10000 in 480 s (cut at the cap)');
    expect(answeredRow(10_000)).to.equal('10000 of 10000 in 480 s');
  });
});
