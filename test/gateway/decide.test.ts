import { expect } from 'chai';
import { decide, denyDecision } from '../../server/gateway/decide.js';
import type { Verdict, VerdictReason } from '../../server/domain/verdict.js';

const reason = (check: string): VerdictReason => ({
  check,
  status: 'fail',
  title: check,
  message: 'm',
  remediation_url: null,
  observed_at: null,
});

function verdict(over: Partial<Verdict>): Verdict {
  return {
    decision: 'allow',
    enforced: true,
    would_deny: false,
    resource: 'prod-db',
    tier: 'high',
    serial: 'C02XX',
    user: 'alice',
    reasons: [],
    break_glass: null,
    device: null,
    remediation_page: null,
    evaluated_at: '2026-11-27T12:00:00.000Z',
    data_age_seconds: 1,
    ...over,
  };
}

describe('decide', () => {
  it('answers 200 with the allow header when the verdict allows', () => {
    const d = decide({ kind: 'verdict', verdict: verdict({}) });
    expect(d).to.deep.equal({ status: 200, headers: { 'X-Trustgate-Decision': 'allow', 'X-Trustgate-Reasons': '' } });
  });
  it('answers 403 with reasons and the remediation URL when the verdict denies', () => {
    const d = decide({
      kind: 'verdict',
      verdict: verdict({
        decision: 'deny',
        would_deny: true,
        reasons: [reason('os_version'), reason('firewall')],
        remediation_page: 'https://tg.example/device?t=abc',
      }),
    });
    expect(d.status).to.equal(403);
    expect(d.headers).to.deep.equal({
      'X-Trustgate-Decision': 'deny',
      'X-Trustgate-Reasons': 'os_version,firewall',
      'X-Trustgate-Remediation-URL': 'https://tg.example/device?t=abc',
    });
  });
  it('allows in monitor mode and flags would-deny', () => {
    const d = decide({
      kind: 'verdict',
      verdict: verdict({ enforced: false, would_deny: true, reasons: [reason('firewall')] }),
    });
    expect(d.status).to.equal(200);
    expect(d.headers['X-Trustgate-Would-Deny']).to.equal('true');
    expect(d.headers['X-Trustgate-Reasons']).to.equal('firewall');
  });
  it('names the break-glass grant on an allow it caused', () => {
    const d = decide({
      kind: 'verdict',
      verdict: verdict({
        would_deny: true,
        reasons: [reason('firewall')],
        break_glass: { id: 'bg1', expires_at: '2026-11-27T14:00:00.000Z', reason: 'incident' },
      }),
    });
    expect(d.status).to.equal(200);
    expect(d.headers['X-Trustgate-Break-Glass']).to.equal('bg1');
  });
  it('denies an unknown resource', () => {
    expect(decide({ kind: 'unknown_resource', resource: 'nope' })).to.deep.equal({
      status: 403,
      headers: { 'X-Trustgate-Decision': 'deny', 'X-Trustgate-Reasons': 'unknown_resource' },
    });
  });
  it('strips control characters and separators from header values', () => {
    const d = decide({
      kind: 'verdict',
      verdict: verdict({
        decision: 'deny',
        would_deny: true,
        reasons: [reason('bad,id\r\nX-Evil: 1')],
        remediation_page: 'https://x/\r\nSet-Cookie: a',
      }),
    });
    expect(d.headers['X-Trustgate-Reasons']).to.equal('badidX-Evil:1');
    expect(d.headers['X-Trustgate-Remediation-URL']).to.equal('https://x/Set-Cookie: a');
  });
  it('builds a plain deny for requests without a verdict', () => {
    expect(denyDecision('missing_serial')).to.deep.equal({
      status: 403,
      headers: { 'X-Trustgate-Decision': 'deny', 'X-Trustgate-Reasons': 'missing_serial' },
    });
  });
});
