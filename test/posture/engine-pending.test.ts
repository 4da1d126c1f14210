/**
 * Hosts held pending in the posture engine: kept out of the serial index (the established device's verdict
 * is untouched), a serial with nothing but pending hosts answers `pending_enrollment` (break glass does not
 * override it), approval makes the record active, a policy swap and the warm start keep them.
 */
import { expect } from 'chai';
import type { CheckStateColumns } from '../../server/domain/types.js';
import { fixture, POLICY, CHECKS, grant } from './engine-fixture.js';
import { applies, host } from './support.js';

const NO_STATES: CheckStateColumns = {
  length: 0,
  hostId: new Float64Array(),
  check: new Uint16Array(),
  status: new Uint8Array(),
  observedAt: new Float64Array(),
  firstFailedAt: new Float64Array(),
  lastPassedAt: new Float64Array(),
  resultSeq: new Float64Array(),
  message: new Map(),
  error: new Map(),
};

const checks = (v: { reasons: ReadonlyArray<{ check: string }> }) => v.reasons.map((r) => r.check);

describe('posture engine: pending hosts', () => {
  it('keeps a pending newcomer out of the established device’s verdict', () => {
    const f = fixture();
    const mac = host(1, 'C02MAC');
    f.report(mac);
    f.engine.updateHost(host(2, 'C02MAC', { enrollState: 'pending', pendingReason: 'serial_conflict' }));
    expect(f.v('C02MAC', 'prod-db').decision).to.equal('allow');
    expect(f.engine.stats()).to.include({ hosts: 1, pending: 1 });
  });

  it('answers pending_enrollment for a serial with only pending hosts, and break glass does not override it', () => {
    const f = fixture();
    f.engine.updateHost(host(3, 'NEWDEV', { enrollState: 'pending', pendingReason: 'unknown_serial' }));
    f.engine.addGrant(grant({ serial: 'NEWDEV', user: 'alice', tier: 'high' }));
    const v = f.v('NEWDEV', 'prod-db');
    expect(v).to.include({ decision: 'deny', break_glass: null });
    expect(checks(v)).to.deep.equal(['pending_enrollment']);
    expect(checks(f.v('NEVER', 'prod-db'))).to.deep.equal(['unknown_device']);
  });

  it('makes an approved host active, and keeps pending hosts across a policy swap and a bulk load', () => {
    const f = fixture();
    const pending = host(4, 'LATER', { enrollState: 'pending', pendingReason: 'unknown_serial' });
    f.engine.updateHost(pending);
    f.engine.setPolicy(POLICY, CHECKS, applies);
    expect(checks(f.v('LATER', 'prod-db'))).to.deep.equal(['pending_enrollment']);
    f.engine.loadHosts([pending, host(5, 'OTHER')], NO_STATES, []);
    expect(checks(f.v('LATER', 'prod-db'))).to.deep.equal(['pending_enrollment']);
    const active = { ...pending, enrollState: 'active' as const, pendingReason: null };
    f.engine.updateHost(active);
    f.report(active);
    expect(f.v('LATER', 'prod-db').decision).to.equal('allow');
    f.engine.removeHost('LATER', 4);
    expect(f.engine.hostStates().map((h) => h.id)).to.deep.equal([5]);
  });
});
