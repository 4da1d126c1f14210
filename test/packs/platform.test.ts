import { expect } from 'chai';
import { checkPlatform, familyOf, intersectPlatforms } from '../../server/packs/platform.js';
import { host } from './helpers.js';

describe('checkPlatform', () => {
  const mac = host('darwin', 'darwin');
  const win = host('windows', 'windows');
  const ubuntu = host('linux', 'ubuntu');
  const rhel = host('linux', 'rhel');
  const bsd = host('freebsd', 'freebsd');
  const cases: Array<[string | undefined, ReturnType<typeof host>, boolean]> = [
    [undefined, win, true],
    ['', mac, true],
    ['null', ubuntu, true],
    ['any', win, true],
    ['all', bsd, true],
    ['darwin', mac, true],
    ['darwin', win, false],
    ['darwin', ubuntu, false],
    ['windows', win, true],
    ['windows', mac, false],
    ['linux', ubuntu, true],
    ['linux', rhel, true],
    ['linux', mac, false],
    ['ubuntu', rhel, true], // osquery never told distributions apart: "ubuntu" means any Linux
    ['centos', ubuntu, true],
    ['ubuntu', mac, false],
    ['posix', mac, true],
    ['posix', ubuntu, true],
    ['posix', bsd, true],
    ['posix', win, false],
    ['freebsd', bsd, true],
    ['freebsd', ubuntu, false],
    ['darwin,linux', ubuntu, true],
    ['darwin,linux', mac, true],
    ['darwin,linux', win, false],
    ['whatever', mac, false],
    ['none', ubuntu, false],
    ['install', win, true], // substring "all": osquery's quirk, kept
  ];
  for (const [platform, h, want] of cases) {
    it(`returns ${want} for ${JSON.stringify(platform)} on a ${h.platform}/${h.osPlatform} host`, () => {
      expect(checkPlatform(platform, h)).to.equal(want);
    });
  }

  it('places a host of unknown platform by its os_version platform', () => {
    expect(familyOf(host('unknown', 'ubuntu'))).to.equal('linux');
    expect(familyOf(host('unknown', 'darwin'))).to.equal('darwin');
    expect(familyOf(host('unknown', 'windows'))).to.equal('windows');
    expect(checkPlatform('linux', host('unknown', 'rhel'))).to.equal(true);
    expect(checkPlatform('darwin', host('unknown', ''))).to.equal(false);
    expect(checkPlatform('any', host('unknown', ''))).to.equal(true);
  });
});

describe('intersectPlatforms', () => {
  it('combines a pack platform and a query platform into one filter', () => {
    expect(intersectPlatforms(undefined, undefined)).to.equal(undefined);
    expect(intersectPlatforms('darwin', undefined)).to.equal('darwin');
    expect(intersectPlatforms(undefined, 'windows')).to.equal('windows');
    expect(intersectPlatforms('posix', 'darwin')).to.equal('darwin');
    expect(intersectPlatforms('posix', 'linux,windows')).to.equal('linux');
    expect(intersectPlatforms('darwin', 'windows')).to.equal('none');
    expect(intersectPlatforms('any', 'all')).to.equal(undefined);
  });
});
