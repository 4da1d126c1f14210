/**
 * domain/audit-hash: the hash every audit entry carries, held to an independent computation (SHA-256 of
 * the canonical JSON written out by hand), and canonicalJson's edge cases (chain tests: test/audit).
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, canonicalJson, hashAuditEntry } from '../../server/domain/audit-hash.js';

describe('domain/audit-hash', () => {
  it('hashes the canonical JSON of the entry’s fields, prev_hash in snake case, keys sorted', () => {
    const entry = { seq: 1, at: 1000, type: 'host.enrolled', actor: 'system', serial: 'C02', data: { b: 1, a: 'x' } };
    const text =
      '{"actor":"system","at":1000,"data":{"a":"x","b":1},' +
      `"prev_hash":"${GENESIS_HASH}","seq":1,"serial":"C02","type":"host.enrolled"}`;
    expect(hashAuditEntry({ ...entry, prevHash: GENESIS_HASH })).to.equal(
      createHash('sha256').update(text).digest('hex'),
    );
  });

  it('hashes missing data as null', () => {
    const base = { seq: 2, at: 5, type: 't', actor: 'a', serial: null, prevHash: GENESIS_HASH };
    expect(hashAuditEntry({ ...base, data: undefined })).to.equal(hashAuditEntry({ ...base, data: null }));
  });

  it('canonicalJson writes what JSON.parse reads back the same: non-finite numbers, bigint, toJSON, holes', () => {
    const value = {
      n: [1.5, NaN, Infinity, -0],
      big: 10n,
      when: new Date(Date.UTC(2026, 0, 2)),
      list: [undefined, () => 1, 'x'],
      skip: undefined,
      fn: () => 1,
    };
    const text = canonicalJson(value);
    expect(text).to.equal(
      '{"big":"10","list":[null,null,"x"],"n":[1.5,null,null,0],"when":"2026-01-02T00:00:00.000Z"}',
    );
    expect(canonicalJson(JSON.parse(text))).to.equal(text);
  });
});
