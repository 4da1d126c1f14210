/** shared/crypto: random secrets, the SHA-256 at-rest form, constant-time matching, HMAC. */
import { expect } from 'chai';
import {
  constantTimeEqual,
  hmacSha256,
  matchesHash,
  randomId,
  randomSecret,
  sha256Hex,
} from '../../server/shared/crypto.js';

describe('shared/crypto', () => {
  it('randomSecret gives 256 URL-safe random bits by default, fresh every call', () => {
    const a = randomSecret();
    expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(randomSecret()).to.not.equal(a);
    expect(randomSecret(16)).to.have.length(22);
  });

  it('randomId gives hex of the requested bytes', () => {
    expect(randomId()).to.match(/^[0-9a-f]{24}$/);
    expect(randomId(4)).to.match(/^[0-9a-f]{8}$/);
  });

  it('sha256Hex matches the FIPS 180-2 test vector, for strings and buffers alike', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).to.equal(abc);
    expect(sha256Hex(Buffer.from('abc'))).to.equal(abc);
  });

  it('constantTimeEqual compares strings of any lengths without throwing', () => {
    expect(constantTimeEqual('secret', 'secret')).to.equal(true);
    expect(constantTimeEqual('secret', 'secreT')).to.equal(false);
    expect(constantTimeEqual('secret', 'secret-and-more')).to.equal(false);
    expect(constantTimeEqual('', '')).to.equal(true);
    expect(constantTimeEqual('', 'x')).to.equal(false);
  });

  it('matchesHash accepts the secret of a stored hash and nothing else, malformed hashes included', () => {
    const secret = randomSecret();
    const stored = sha256Hex(secret);
    expect(matchesHash(secret, stored)).to.equal(true);
    expect(matchesHash(secret, stored.toUpperCase())).to.equal(true); // hex is read case-insensitively
    expect(matchesHash(`${secret}x`, stored)).to.equal(false);
    expect(matchesHash(secret, stored.slice(0, 62))).to.equal(false);
    expect(matchesHash(secret, 'not hex at all')).to.equal(false);
    expect(matchesHash(secret, '')).to.equal(false);
  });

  it('hmacSha256 matches RFC 4231 test case 2', () => {
    expect(hmacSha256('Jefe', 'what do ya want for nothing?').toString('hex')).to.equal(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
