/**
 * A stale tier's named reasons, kept on the record (posture/host-record.ts): the same frozen array for
 * every lookup while the same checks are stale (so the verdict's JSON is made once: gateway/verdict-json.ts),
 * a new one when another check goes stale or a result arrives, and kept for a bounded number of devices.
 */
import { expect } from 'chai';
import {
  applyApplicability,
  emptyRec,
  infoOf,
  refreshTiers,
  setState,
  staleKept,
  tierReasonsAt,
  type HostRec,
} from '../../server/posture/host-record.js';
import { emptyState, indexSerial, removeHost } from '../../server/posture/fleet.js';
import { buildModel, type Model } from '../../server/posture/model.js';
import { applies, checkDef, host, HOUR, MIN, policy, resource, T0, tier } from './support.js';

const model: Model = buildModel(
  policy([tier('t', 15 * MIN, ['a', 'b'])], [resource('r', 't')]),
  [checkDef('a'), checkDef('b')],
  applies,
);

/** A device whose check `a` passed at `aAt` and `b` at `bAt`. */
function device(id: number, aAt: number, bAt: number): HostRec {
  const rec = emptyRec(id, infoOf(host(id, `SER${id}`)), model.checks.length);
  applyApplicability(model, rec);
  for (const [idx, at] of [
    [model.byId.get('a') ?? -1, aAt],
    [model.byId.get('b') ?? -1, bAt],
  ] as const)
    setState(
      rec,
      idx,
      { status: 'pass', observedAt: at, firstFailedAt: null, lastPassedAt: at, resultSeq: null },
      undefined,
    );
  refreshTiers(model, rec);
  return rec;
}

const named = (r: readonly { check: string; status: string }[] | undefined) => r?.map((x) => `${x.check}:${x.status}`);

describe('stale reasons kept on the record', () => {
  it('answers every lookup with one frozen array while the same checks are stale, a new one when b goes stale', () => {
    const kept = staleKept(8);
    const rec = device(1, T0, T0 + 5 * MIN);
    const first = tierReasonsAt(model, rec, 0, T0 + 15 * MIN + 1, kept);
    expect(named(first)).to.deep.equal(['a:stale']);
    expect(Object.isFrozen(first)).to.equal(true);
    expect(tierReasonsAt(model, rec, 0, T0 + 20 * MIN, kept)).to.equal(first);
    // b's result is older than 15 min from T0 + 20 min + 1 ms
    const both = tierReasonsAt(model, rec, 0, T0 + 20 * MIN + 1, kept);
    expect(named(both)).to.deep.equal(['a:stale', 'b:stale']);
    expect(tierReasonsAt(model, rec, 0, T0 + 60 * MIN, kept)).to.equal(both);
    // asked for an earlier time (a clock set back): named anew for that time
    expect(named(tierReasonsAt(model, rec, 0, T0 + 16 * MIN, kept))).to.deep.equal(['a:stale']);
    expect(tierReasonsAt(model, rec, 0, T0, kept)).to.deep.equal([]);
  });

  it('names them anew once a result arrives (the record refreshed)', () => {
    const kept = staleKept(8);
    const rec = device(1, T0, T0);
    const before = tierReasonsAt(model, rec, 0, T0 + 16 * MIN, kept);
    expect(named(before)).to.deep.equal(['a:stale', 'b:stale']);
    const b = model.byId.get('b') ?? -1;
    const at = T0 + 16 * MIN;
    setState(
      rec,
      b,
      { status: 'pass', observedAt: at, firstFailedAt: null, lastPassedAt: at, resultSeq: null },
      undefined,
    );
    refreshTiers(model, rec);
    expect(rec.staleTiers).to.equal(undefined);
    expect(named(tierReasonsAt(model, rec, 0, T0 + 16 * MIN, kept))).to.deep.equal(['a:stale']);
  });

  it('keeps them for the most recently named devices only, and not at all without a keep', () => {
    const kept = staleKept(2);
    const recs = [device(1, T0, T0), device(2, T0, T0), device(3, T0, T0)];
    const later = T0 + HOUR;
    for (const rec of recs) tierReasonsAt(model, rec, 0, later, kept);
    expect(recs.map((r) => r.staleTiers !== undefined)).to.deep.equal([false, true, true]);
    const loose = device(4, T0, T0);
    expect(named(tierReasonsAt(model, loose, 0, later))).to.deep.equal(['a:stale', 'b:stale']);
    expect(loose.staleTiers).to.equal(undefined);
  });

  it('lets go of a removed device (removeHost): its slot emptied, its reasons dropped', () => {
    const s = emptyState(model);
    const [gone, stays] = [device(1, T0, T0), device(2, T0, T0)];
    for (const rec of [gone, stays]) {
      s.byId.set(rec.id, rec);
      indexSerial(s, rec);
      tierReasonsAt(model, rec, 0, T0 + HOUR, s.staleKept);
    }
    removeHost(s, gone.info.serial);
    expect(s.staleKept.recs).to.not.include(gone);
    expect(gone.staleTiers).to.equal(undefined);
    expect(s.staleKept.recs).to.include(stays);
    expect(stays.staleTiers).to.not.equal(undefined);
  });
});
