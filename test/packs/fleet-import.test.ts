import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../server/shared/errors.js';
import {
  fleetPlatformToOsquery,
  importFleetPolicies,
  importFleetPoliciesDetailed,
  packToJson,
  slugify,
} from '../../server/packs/fleet-import.js';
import { parsePackText } from '../../server/packs/parse.js';
import { FIXTURES } from './helpers.js';

const STANDARD_LIBRARY = readFileSync(join(FIXTURES, 'fleet', 'standard-query-library.yml'), 'utf8');
const QUERIES = readFileSync(join(FIXTURES, 'fleet', 'queries.yml'), 'utf8');

describe('importFleetPolicies', () => {
  it("converts every policy of Fleet's standard query library into a check and skips its queries", () => {
    const { pack, skipped } = importFleetPoliciesDetailed(STANDARD_LIBRARY);
    const policyDocs = (STANDARD_LIBRARY.match(/^kind: policy$/gm) ?? []).length;
    expect(policyDocs).to.equal(44);
    expect(Object.keys(pack.queries)).to.have.length(policyDocs);
    expect(skipped.filter((s) => s.includes('kind "query"'))).to.have.length(
      (STANDARD_LIBRARY.match(/^kind: query$/gm) ?? []).length,
    );
    for (const q of Object.values(pack.queries)) {
      expect(q.check?.title).to.be.a('string').and.not.equal('');
      expect(q.check?.message).to.be.a('string').and.not.equal('');
      expect(q.check?.pass).to.equal(undefined); // Fleet semantics: rows mean pass
    }
  });

  it('maps resolution to the message, keeps the name as title and the description, and maps the platform', () => {
    const pack = importFleetPolicies(STANDARD_LIBRARY);
    const gk = pack.queries.gatekeeper_enabled_macos;
    expect(gk?.platform).to.equal('darwin');
    expect(gk?.check?.title).to.equal('Gatekeeper enabled (macOS)');
    expect(gk?.check?.message).to.match(/Gatekeeper/);
    const first = pack.queries.ensure_a_password_is_required_to_wake_the_computer_from_sleep_or;
    expect(first?.check?.message).to.match(/^Automated method:/);
    expect(first?.description).to.match(/^Checks that password is required/);
  });

  it('produces a pack Trustgate loads back unchanged', () => {
    const pack = importFleetPolicies(STANDARD_LIBRARY, { name: 'fleet' });
    const again = parsePackText('fleet', packToJson(pack), 'packs/fleet.json');
    expect(again.errors).to.deep.equal([]);
    expect(again.packs[0]?.queries).to.deep.equal(pack.queries);
    expect(again.checks).to.have.length(44);
  });

  it('refuses a file with no policies (Fleet queries.yml holds queries only), saying why', () => {
    expect(() => importFleetPolicies(QUERIES)).to.throw(AppError, /no Fleet policies found to import/);
  });

  it('reads GitOps policy lists and policies: files, and makes query names unique', () => {
    const gitops = `- name: Firewall on
  query: SELECT 1 FROM alf WHERE global_state >= 1;
  platform: darwin
  resolution: Turn the firewall on.
- name: Firewall on
  query: SELECT 1 FROM windows_security_center WHERE firewall = 'Good';
  platform: windows
  critical: true
  description: Windows firewall.
- name: ChromeOS only
  query: SELECT 1;
  platform: chrome
- path: ../lib/other.yml
`;
    const { pack, skipped } = importFleetPoliciesDetailed(gitops);
    expect(Object.keys(pack.queries)).to.deep.equal(['firewall_on', 'firewall_on_2']);
    expect(pack.queries.firewall_on?.check).to.deep.equal({ title: 'Firewall on', message: 'Turn the firewall on.' });
    expect(pack.queries.firewall_on_2?.check).to.deep.equal({
      title: 'Firewall on',
      message: 'Windows firewall.',
      severity: 'high',
    });
    expect(skipped.join('\n')).to.include('ChromeOS only').and.include('../lib/other.yml');
    const team = importFleetPolicies(
      'name: Team\npolicies:\n  - name: Disk encrypted\n' +
        '    query: SELECT 1 FROM bitlocker_info WHERE protection_status = 1;\n    platform: windows\n',
    );
    expect(Object.keys(team.queries)).to.deep.equal(['disk_encrypted']);
  });
});

describe('fleetPlatformToOsquery', () => {
  const cases: Array<[unknown, string | undefined, boolean]> = [
    ['darwin', 'darwin', false],
    ['windows', 'windows', false],
    ['linux', 'linux', false],
    ['darwin, linux', 'darwin,linux', false],
    ['linux,darwin', 'darwin,linux', false],
    ['darwin, linux, windows', undefined, false],
    ['windows, darwin, linux, chrome', undefined, false],
    ['', undefined, false],
    [undefined, undefined, false],
    ['chrome', undefined, true],
  ];
  for (const [input, platform, unsupported] of cases) {
    it(`maps ${JSON.stringify(input)} to ${JSON.stringify(platform)}`, () => {
      expect(fleetPlatformToOsquery(input)).to.deep.equal(
        platform === undefined ? { unsupported } : { platform, unsupported },
      );
    });
  }
});

describe('slugify', () => {
  it('makes lower-case query names of letters, digits and underscores', () => {
    expect(slugify('Full disk encryption enabled (Windows)')).to.equal('full_disk_encryption_enabled_windows');
    expect(slugify('  Ünïcode — and/slashes!  ')).to.equal('unicode_and_slashes');
    expect(slugify('***')).to.equal('policy');
    expect(slugify('x'.repeat(100))).to.have.length(64);
  });
});
