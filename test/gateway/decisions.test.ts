/**
 * Each decision's line and counts (gateway/decisions.ts): one `gateway.decision` line with the verdict's
 * outcome (or `unknown_resource`), the counter by resource, decision and mode (a resource the policy does
 * not define counted as `(unknown)`), the latency histogram; and no line at all when info is off.
 */
import { expect } from 'chai';
import type { VerdictLookup, VerdictSource } from '../../server/domain/verdict.js';
import { denyDecision } from '../../server/gateway/decide.js';
import { createDecisions } from '../../server/gateway/decisions.js';
import { ManualClock } from '../../server/shared/clock.js';
import { createLogger, type LogLevel } from '../../server/shared/log.js';
import { createMetrics } from '../../server/shared/metrics.js';

const deny = {
  kind: 'verdict',
  verdict: {
    decision: 'deny',
    enforced: true,
    would_deny: true,
    reasons: [{ check: 'firewall', status: 'fail' }],
    break_glass: null,
  },
} as unknown as VerdictLookup;
const unknown: VerdictLookup = { kind: 'unknown_resource', resource: 'nope' };

function setup(level: LogLevel) {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(level, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  const metrics = createMetrics({ defaults: false });
  const verdicts = { verdict: (_s: string, r: string) => (r === 'db' ? deny : unknown) } as unknown as VerdictSource;
  const d = createDecisions({ verdicts, clock: new ManualClock(), metrics }, log);
  return { d, lines, metrics };
}

describe('gateway decisions: line and counts', () => {
  it('logs one line per lookup with the outcome, and counts it', async () => {
    const { d, lines, metrics } = setup('info');
    d.lookup('SN1', 'db', 'alice@example.com');
    d.lookup('SN1', 'nope', null);
    expect(
      lines.map(({ time: _t, pid: _p, hostname: _h, latencyMs, ...rest }) => ({ ...rest, timed: typeof latencyMs })),
    ).to.deep.equal([
      {
        level: 30,
        service: 'trustgate',
        event: 'gateway.decision',
        serial: 'SN1',
        user: 'alice@example.com',
        resource: 'db',
        decision: 'deny',
        would_deny: true,
        reasons: ['firewall:fail'],
        break_glass: null,
        msg: 'decision',
        timed: 'number',
      },
      {
        level: 30,
        service: 'trustgate',
        event: 'gateway.decision',
        serial: 'SN1',
        user: null,
        resource: 'nope',
        decision: 'deny',
        reasons: ['unknown_resource'],
        msg: 'decision',
        timed: 'number',
      },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).to.contain('trustgate_decisions_total{resource="db",decision="deny",mode="enforce"} 1');
    expect(text).to.contain('trustgate_decisions_total{resource="(unknown)",decision="deny",mode="none"} 1');
    expect(text).to.contain('trustgate_decision_seconds_count 2');
  });

  it('counts a refused request under its resource only when the policy defines it', async () => {
    const { d, metrics } = setup('warn');
    const refusal = denyDecision('no_device_serial');
    d.refused('', 'db', null, refusal);
    // names from a forwarded X-Trustgate-Resource header: one label set for all of them, not one each
    for (let i = 0; i < 50; i++) d.refused('', `made-up-${i}`, null, refusal);
    d.refused('', '', null, refusal);
    const text = await metrics.registry.metrics();
    expect(text).to.contain('trustgate_decisions_total{resource="db",decision="deny",mode="none"} 1');
    expect(text).to.contain('trustgate_decisions_total{resource="(unknown)",decision="deny",mode="none"} 50');
    expect(text).to.contain('trustgate_decisions_total{resource="(none)",decision="deny",mode="none"} 1');
    expect(text).to.not.contain('made-up');
  });

  it('writes no line at warn level, and still counts', async () => {
    const { d, lines, metrics } = setup('warn');
    d.lookup('SN1', 'db', null);
    expect(lines).to.deep.equal([]);
    expect(await metrics.registry.metrics()).to.contain('trustgate_decision_seconds_count 1');
  });
});
