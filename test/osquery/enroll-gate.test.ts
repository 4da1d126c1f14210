/** The enrollment gate and the per-request certificate check: table-driven, pure. */
import { expect } from 'chai';
import type { Host, InventoryDevice, PresentedCert } from '../../server/domain/types.js';
import {
  certificateCheck,
  decideEnrollment,
  type GateInput,
  type GateOutcome,
} from '../../server/osquery/enroll-gate.js';
import { host } from '../posture/support.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const HOUR = 3_600_000;

const cert = (over: Partial<PresentedCert> = {}): PresentedCert => ({
  sha256: 'a'.repeat(64),
  sha1: 'b'.repeat(40),
  serial: '01',
  notBefore: NOW - HOUR,
  notAfter: NOW + 365 * 24 * HOUR,
  identity: 'S1',
  authorized: true,
  authorizationError: null,
  ...over,
});

const row = (hardwareUuid: string | null): InventoryDevice => ({
  serial: 'S1',
  hardwareUuid,
  owners: [],
  assetTag: null,
  source: 'f',
  importedAt: NOW,
  updatedAt: NOW,
});

const input = (over: Partial<GateInput> = {}): GateInput => ({
  settings: { mode: 'secret', unknown: 'refuse' },
  serial: 'S1',
  hardwareUuid: 'U1',
  now: NOW,
  rejected: false,
  cert: null,
  revoked: () => false,
  inventory: undefined,
  existing: [],
  ...over,
});

const established = (over: Partial<Host> = {}): Host => host(1, 'S1', { hardwareUuid: 'U0', ...over });

function summary(o: GateOutcome): string {
  if (o.kind === 'refuse') return `refuse:${o.reason}`;
  return `${o.state}:${o.pendingReason ?? '-'}${o.mayBePending ? ':may-pend' : ''}`;
}

describe('osquery/enroll-gate decideEnrollment', () => {
  const cases: Array<[string, Partial<GateInput>, string]> = [
    ['secret mode, a new serial', {}, 'active:-'],
    [
      'secret mode, another device holds the serial (the store makes it pending)',
      { existing: [established()] },
      'active:-:may-pend',
    ],
    ['a rejected pair', { rejected: true }, 'refuse:rejected'],
    [
      'inventory mode, serial not listed, refuse',
      { settings: { mode: 'inventory', unknown: 'refuse' } },
      'refuse:not_in_inventory',
    ],
    [
      'inventory mode, serial not listed, pending',
      { settings: { mode: 'inventory', unknown: 'pending' } },
      'pending:unknown_serial:may-pend',
    ],
    [
      'inventory mode, listed with another hardware UUID',
      { settings: { mode: 'inventory', unknown: 'refuse' }, inventory: row('u-other') },
      'pending:inventory_mismatch:may-pend',
    ],
    [
      'inventory mode, listed with this hardware UUID (any case)',
      { settings: { mode: 'inventory', unknown: 'refuse' }, inventory: row('u1') },
      'active:-',
    ],
    [
      'certificate mode, no certificate',
      { settings: { mode: 'certificate', unknown: 'refuse' } },
      'refuse:certificate',
    ],
    [
      'certificate mode, a certificate naming another serial',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert({ identity: 'S2' }) },
      'refuse:certificate',
    ],
    [
      'certificate mode, a certificate of another CA',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert({ authorized: false }) },
      'refuse:certificate',
    ],
    [
      'certificate mode, a revoked certificate',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert(), revoked: () => true },
      'refuse:certificate',
    ],
    [
      'certificate mode, an expired certificate',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert({ notAfter: NOW - 1 }) },
      'refuse:certificate',
    ],
    [
      'certificate mode, an ambiguous identity (two CNs)',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert({ identity: null }) },
      'refuse:certificate',
    ],
    [
      'certificate mode, the serial’s certificate',
      { settings: { mode: 'certificate', unknown: 'refuse' }, cert: cert() },
      'active:-',
    ],
    [
      'certificate mode, re-enrolling with another valid certificate than the bound one',
      {
        settings: { mode: 'certificate', unknown: 'refuse' },
        cert: cert({ sha256: 'c'.repeat(64) }),
        existing: [established({ hardwareUuid: 'U1', cert: { ...cert(), notAfter: NOW + HOUR } })],
      },
      'refuse:certificate_not_bound',
    ],
    [
      'certificate mode, re-enrolling with a new certificate after the bound one was revoked',
      {
        settings: { mode: 'certificate', unknown: 'refuse' },
        cert: cert({ sha256: 'c'.repeat(64) }),
        revoked: (s) => s === 'a'.repeat(64),
        existing: [established({ hardwareUuid: 'U1', cert: cert() })],
      },
      'active:-',
    ],
    [
      'inventory+certificate mode, a valid certificate for a serial not listed',
      { settings: { mode: 'inventory+certificate', unknown: 'refuse' }, cert: cert() },
      'refuse:not_in_inventory',
    ],
  ];
  for (const [when, over, want] of cases) {
    it(`${want} when ${when}`, () => expect(summary(decideEnrollment(input(over)))).to.equal(want));
  }

  it('marks a re-enrollment of a device seen within the hour, and binds an inventory row without a UUID', () => {
    const same = established({ hardwareUuid: 'U1', lastSeenAt: NOW - HOUR / 2 });
    const o = decideEnrollment(input({ existing: [same] }));
    expect(o).to.include({ kind: 'enroll', reenrolledActive: true, same });
    const tofu = decideEnrollment(input({ settings: { mode: 'inventory', unknown: 'refuse' }, inventory: row(null) }));
    expect(tofu).to.include({ kind: 'enroll', bindsInventoryUuid: true });
  });
});

describe('osquery/enroll-gate certificateCheck (per request)', () => {
  const bound = host(1, 'S1', { cert: { sha256: 'a'.repeat(64), sha1: 'b', serial: '01', notAfter: NOW + HOUR } });
  const no = () => false;
  it('accepts the bound certificate and refuses none, a revoked or an expired one', () => {
    expect(certificateCheck(bound, cert(), NOW, no).kind).to.equal('ok');
    expect(certificateCheck(bound, null, NOW, no).kind).to.equal('refuse');
    expect(certificateCheck(bound, cert(), NOW, () => true).kind).to.equal('refuse');
    expect(certificateCheck(bound, cert(), NOW + 2 * HOUR, no).kind).to.equal('refuse');
    expect(certificateCheck(host(2, 'S1'), cert(), NOW, no).kind, 'enrolled without one').to.equal('refuse');
  });
  it('rebinds a renewal (valid, same serial, expiring later) and refuses an older or foreign one', () => {
    const renewal = cert({ sha256: 'c'.repeat(64) });
    expect(certificateCheck(bound, renewal, NOW, no)).to.deep.include({ kind: 'rebind' });
    const older = cert({ sha256: 'c'.repeat(64), notAfter: NOW + HOUR / 2 });
    expect(certificateCheck(bound, older, NOW, no).kind).to.equal('refuse');
    expect(certificateCheck(bound, cert({ sha256: 'c'.repeat(64), identity: 'S2' }), NOW, no).kind).to.equal('refuse');
  });
});
