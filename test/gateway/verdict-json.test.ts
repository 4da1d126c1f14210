/**
 * The gateway writes verdicts with verdictJson (gateway/verdict-json.ts) instead of JSON.stringify: it must
 * give the same bytes for every shape assembleVerdict makes (allow, deny, monitor, break glass, unknown
 * device, no person, stale data, text that needs escaping), and reuse a reasons array's text only for that
 * very array.
 */
import { expect } from 'chai';
import type { BreakGlassGrant } from '../../server/domain/types.js';
import type { VerdictReason } from '../../server/domain/verdict.js';
import { verdictJson } from '../../server/gateway/verdict-json.js';
import { assembleVerdict, deviceReason, type AssembleInput } from '../../server/posture/verdict.js';

const NOW = Date.parse('2026-12-01T06:00:00.000Z');

const reason = (check: string, message: string): VerdictReason => ({
  check,
  status: 'fail',
  title: `${check} title`,
  message,
  remediation_url: check === 'os_version' ? 'https://docs.example.com/os?x="1"&y=<2>' : null,
  observed_at: '2026-12-01T05:59:00.000Z',
});

const base: AssembleInput = {
  serial: 'C02XYZ',
  user: 'alice@example.com',
  resource: { name: 'prod-db', mode: 'enforce' },
  tier: 'high',
  device: {
    serial: 'C02XYZ',
    hostname: 'alice-mbp',
    platform: 'darwin',
    osPlatform: 'darwin',
    lastSeenAt: NOW - 30_000,
    serialConflict: false,
  },
  reasons: [],
  oldestObservedAt: NOW - 90_000,
  grant: undefined,
  now: NOW,
};

const grant = {
  id: 'bg_1',
  serial: 'C02XYZ',
  user: 'alice@example.com',
  tier: 'high',
  status: 'active',
  reason: 'incident "INC-7" \\ on call',
  createdAt: NOW - 60_000,
  activatedAt: NOW - 60_000,
  expiresAt: NOW + 3_600_000,
} as unknown as BreakGlassGrant;

describe('verdict JSON', () => {
  const failing = [
    reason('os_version', 'Your OS is 12.1, we need 12.4.'),
    reason('disk', 'Turn on "FileVault"\n\tnow ✓'),
  ];
  const cases: Record<string, AssembleInput> = {
    allow: base,
    deny: { ...base, reasons: failing },
    monitor: { ...base, resource: { name: 'wiki', mode: 'monitor' }, reasons: failing },
    'break glass': { ...base, reasons: failing, grant },
    'unknown device, no person, no data': {
      ...base,
      user: null,
      device: undefined,
      reasons: [deviceReason('unknown_device')],
      oldestObservedAt: Number.NaN,
    },
    'nothing required': { ...base, oldestObservedAt: Number.POSITIVE_INFINITY },
  };
  for (const [name, input] of Object.entries(cases)) {
    it(`is JSON.stringify's text for a verdict: ${name}`, () => {
      const v = assembleVerdict(input);
      expect(verdictJson(v)).to.equal(JSON.stringify(v));
      const linked = { ...v, remediation_page: v.would_deny ? 'https://tg.example.com/device?t=a.b"c' : null };
      expect(verdictJson(linked)).to.equal(JSON.stringify(linked));
    });
  }

  it("is JSON.stringify's text when a string needs escaping (quotes, backslashes, controls, non-ASCII)", () => {
    const odds = ['a"b', 'a\\b', 'tab\there', 'nl\n', '\u007f', 'café-mbp', 'ünï', '\ud800x', 'x\udfff', '😀', ''];
    const device = base.device as NonNullable<AssembleInput['device']>;
    for (const odd of odds) {
      const v = assembleVerdict({
        ...base,
        serial: `C02${odd}`,
        user: `${odd}@example.com`,
        tier: odd,
        resource: { name: `db${odd}`, mode: 'enforce' },
        // a platform outside the known ones only to reach every string field: the JSON carries it as text
        device: { ...device, hostname: odd, platform: `p${odd}` as typeof device.platform },
        reasons: failing,
      });
      const linked = { ...v, remediation_page: `https://tg.example.com/device?t=${odd}` };
      expect(verdictJson(linked), JSON.stringify(odd)).to.equal(JSON.stringify(linked));
    }
  });

  it('reuses the text of a reasons array only for that array', () => {
    const v = assembleVerdict({ ...base, reasons: failing });
    expect(verdictJson(v)).to.equal(JSON.stringify(v));
    const other = assembleVerdict({ ...base, reasons: [reason('firewall', 'Turn the firewall on.')] });
    expect(verdictJson(other)).to.equal(JSON.stringify(other));
    expect(JSON.parse(verdictJson(other)).reasons[0].check).to.equal('firewall');
  });
});
