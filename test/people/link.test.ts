import { expect } from 'chai';
import fc from 'fast-check';
import { csrfTokenFor, deviceLinkUrl, signDeviceLink, verifyDeviceLink } from '../../server/people/link.js';

const KEY = 'k'.repeat(32);
const subject = { serial: 'C02XX', user: 'alice@corp', resource: 'prod-db' };

describe('signDeviceLink / verifyDeviceLink', () => {
  it('verifies a link it signed and returns its subject before expiry', () => {
    const t = signDeviceLink(subject, KEY, 10_000);
    expect(verifyDeviceLink(t, KEY, 9_999)).to.deep.equal({ ok: true, link: { ...subject, expiresAt: 10_000 } });
  });

  it('reports expired, with the subject, at and after the expiry time', () => {
    const t = signDeviceLink(subject, KEY, 10_000);
    expect(verifyDeviceLink(t, KEY, 10_000)).to.deep.equal({
      ok: false,
      reason: 'expired',
      link: { ...subject, expiresAt: 10_000 },
    });
  });

  it('rejects a link signed with another key', () => {
    const t = signDeviceLink(subject, 'other-key', 10_000);
    expect(verifyDeviceLink(t, KEY, 0)).to.deep.equal({ ok: false, reason: 'invalid' });
  });

  it('rejects a link whose payload was changed (e.g. another serial or a later expiry)', () => {
    const t = signDeviceLink(subject, KEY, 10_000);
    const [v, , sig] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ s: 'OTHER', u: 'alice@corp', r: 'prod-db', e: 10_000 })).toString(
      'base64url',
    );
    const later = Buffer.from(JSON.stringify({ s: 'C02XX', u: 'alice@corp', r: 'prod-db', e: 99_999_999 })).toString(
      'base64url',
    );
    expect(verifyDeviceLink(`${v}.${forged}.${sig}`, KEY, 0).ok).to.equal(false);
    expect(verifyDeviceLink(`${v}.${later}.${sig}`, KEY, 20_000)).to.deep.equal({ ok: false, reason: 'invalid' });
  });

  it('rejects garbage, truncated and non-string tokens without throwing', () => {
    const t = signDeviceLink(subject, KEY, 10_000);
    for (const bad of [
      undefined,
      null,
      42,
      '',
      'v1',
      'v1..',
      t.slice(0, -3),
      `v2${t.slice(2)}`,
      `${t}.x`,
      'v1.!!!.???',
    ]) {
      expect(verifyDeviceLink(bad, KEY, 0)).to.deep.equal({ ok: false, reason: 'invalid' });
    }
  });

  it('round-trips any serial, user and resource text', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.integer({ min: 1, max: 2 ** 45 }),
        (serial, user, resource, exp) => {
          const res = verifyDeviceLink(signDeviceLink({ serial, user, resource }, KEY, exp), KEY, exp - 1);
          return (
            res.ok &&
            res.link.serial === serial &&
            res.link.user === user &&
            res.link.resource === resource &&
            res.link.expiresAt === exp
          );
        },
      ),
    );
  });
});

describe('deviceLinkUrl', () => {
  it('builds <publicUrl>/device?t=<token> without a double slash', () => {
    expect(deviceLinkUrl('https://tg.example.com:8443/', 'v1.a.b')).to.equal(
      'https://tg.example.com:8443/device?t=v1.a.b',
    );
  });
});

describe('csrfTokenFor', () => {
  it('is stable per link and differs between links', () => {
    expect(csrfTokenFor('a', KEY)).to.equal(csrfTokenFor('a', KEY));
    expect(csrfTokenFor('a', KEY)).to.not.equal(csrfTokenFor('b', KEY));
  });
});
