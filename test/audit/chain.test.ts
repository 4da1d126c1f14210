import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalJson, chainHead, GENESIS_HASH, hashAuditEntry, verifyChain } from '../../server/audit/chain.js';
import type { AuditEntry } from '../../server/domain/types.js';

function chain(datas: unknown[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  datas.forEach((data, i) => {
    const base = {
      seq: i + 1,
      at: 1000 + i,
      type: 'x.y',
      actor: 'admin',
      serial: i % 2 ? 'S1' : null,
      data,
      prevHash: prev,
    };
    const e = { ...base, hash: hashAuditEntry(base) };
    out.push(e);
    prev = e.hash;
  });
  return out;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).to.equal(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('is independent of key insertion order and stable across a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalJson(v);
        return canonicalJson(JSON.parse(once)) === once && canonicalJson(JSON.parse(JSON.stringify(v))) === once;
      }),
    );
  });
});

describe('verifyChain', () => {
  it('accepts an empty log and a well-formed chain', () => {
    expect(verifyChain([])).to.deep.equal({ ok: true, count: 0 });
    expect(verifyChain(chain([{ a: 1 }, null, 'x']))).to.deep.equal({ ok: true, count: 3 });
  });

  it('names the altered entry when any field of any entry changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.nat(),
        fc.constantFrom('data', 'actor', 'type', 'at', 'serial'),
        (n, pick, field) => {
          const entries = chain(Array.from({ length: n }, (_, i) => ({ i })));
          const idx = pick % n;
          const e = entries[idx];
          if (!e) return false;
          const altered = { ...e, [field]: field === 'at' ? e.at + 1 : field === 'data' ? { i: -1 } : 'mallory' };
          entries[idx] = altered;
          const res = verifyChain(entries);
          return !res.ok && res.seq === idx + 1;
        },
      ),
    );
  });

  it('names the missing entry when one is removed, including the first', () => {
    const entries = chain([1, 2, 3, 4, 5]);
    expect(verifyChain([...entries.slice(0, 2), ...entries.slice(3)])).to.include({ ok: false, seq: 3 });
    expect(verifyChain(entries.slice(1))).to.include({ ok: false, seq: 1 });
  });

  it('detects an entry whose hash was recomputed after alteration (the next link breaks)', () => {
    const entries = chain([1, 2, 3]);
    const e = entries[1];
    if (!e) throw new Error('fixture');
    const forged = { ...e, data: 99 };
    entries[1] = { ...forged, hash: hashAuditEntry(forged) };
    expect(verifyChain(entries)).to.include({ ok: false, seq: 3 });
  });

  it('detects removal of the last entries against a recorded head, and a rewritten head', () => {
    const entries = chain([1, 2, 3, 4]);
    const anchor = chainHead(entries);
    if (!anchor) throw new Error('fixture');
    expect(verifyChain(entries, anchor)).to.deep.equal({ ok: true, count: 4 });
    expect(verifyChain(entries.slice(0, 2))).to.deep.equal({ ok: true, count: 2 });
    expect(verifyChain(entries.slice(0, 2), anchor)).to.include({ ok: false, seq: 3 });
    expect(verifyChain(chain([1, 2, 3, 5]), anchor)).to.include({ ok: false, seq: 4 });
    expect(chainHead([])).to.equal(null);
  });

  it('detects reordered entries', () => {
    const entries = chain([1, 2, 3]);
    const [a, b, c] = entries;
    if (!a || !b || !c) throw new Error('fixture');
    expect(verifyChain([a, c, b]).ok).to.equal(false);
  });
});
