import { expect } from 'chai';
import { join } from 'node:path';
import { AppError } from '../../server/shared/errors.js';
import { loadPolicy, parsePolicy, policyErrorsOf, policySchema } from '../../server/packs/policy.js';
import { byteForm } from '../support/byte-form.js';
import { tempDir } from './helpers.js';

const CHECKS = ['disk_encryption', 'firewall', 'os_version', 'remote_login_off', 'osquery_healthy'];

const SPEC_EXAMPLE = `tiers:
  high:   { max_age: 15m, checks: [disk_encryption, firewall, os_version, remote_login_off] }
  medium: { max_age: 1h,  checks: [disk_encryption, firewall] }
  low:    { max_age: 24h, checks: [osquery_healthy] }
resources:
  prod-db: { tier: high, mode: enforce, hosts: [db.internal.example.com], title: Production database }
  # hosts: forward-auth mapping; title: optional display name for people
  wiki:    { tier: low,  mode: monitor }
break_glass:
  max_duration: 4h                       # longest grant
  limit: { count: 3, window: 30d }       # per user, rolling
  approval: { low: none, medium: none, high: required }   # none | required | never
  webhook: https://hooks.example.com/x   # optional, Slack-compatible JSON
`;

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the policy to be refused');
}

describe('parsePolicy', () => {
  it('reads the SPEC §5 example into the domain Policy (durations in ms)', () => {
    const p = parsePolicy(SPEC_EXAMPLE, 'yaml', CHECKS, 'packs/policy.yaml');
    expect(p.tiers.high).to.deep.equal({
      name: 'high',
      maxAgeMs: 15 * 60_000,
      checks: ['disk_encryption', 'firewall', 'os_version', 'remote_login_off'],
    });
    expect(p.tiers.low?.maxAgeMs).to.equal(24 * 3_600_000);
    expect(p.resources['prod-db']).to.deep.equal({
      name: 'prod-db',
      tier: 'high',
      mode: 'enforce',
      hosts: ['db.internal.example.com'],
      title: 'Production database',
    });
    expect(p.resources.wiki).to.deep.equal({ name: 'wiki', tier: 'low', mode: 'monitor', hosts: [] });
    expect(p.breakGlass).to.deep.equal({
      maxDurationMs: 4 * 3_600_000,
      limit: { count: 3, windowMs: 30 * 86_400_000 },
      approval: { low: 'none', medium: 'none', high: 'required' },
      webhook: 'https://hooks.example.com/x',
    });
    expect(p.source).to.have.property('tiers');
  });

  it('applies the break-glass defaults (4h, 3 per 30d, approval required for unlisted tiers)', () => {
    const p = parsePolicy(
      'tiers:\n  a: {max_age: 1h, checks: []}\n  b: {max_age: 2h, checks: []}\n' +
        'resources: {}\nbreak_glass:\n  approval: {a: never}\n',
      'yaml',
      [],
      'p.yaml',
    );
    expect(p.breakGlass).to.deep.equal({
      maxDurationMs: 4 * 3_600_000,
      limit: { count: 3, windowMs: 30 * 86_400_000 },
      approval: { a: 'never', b: 'required' },
    });
    const q = parsePolicy('{"tiers": {"t": {"max_age": "90s", "checks": []}}, "resources": {}}', 'json', [], 'p.json');
    expect(q.breakGlass.approval).to.deep.equal({ t: 'required' });
    expect(q.tiers.t?.maxAgeMs).to.equal(90_000);
  });

  const bad: Array<[string, string, string, string]> = [
    [
      'an unknown key in a tier',
      SPEC_EXAMPLE.replace('max_age: 1h,', 'max_age: 1h, maxage: 2h,'),
      '/tiers/medium/maxage',
      'unknown key "maxage"',
    ],
    ['an unknown top-level key', `${SPEC_EXAMPLE}defaults: {}\n`, '/defaults', 'unknown key "defaults"'],
    [
      'an unknown key in a resource (a typo of mode)',
      SPEC_EXAMPLE.replace('mode: monitor', 'mdoe: monitor'),
      '/resources/wiki/mdoe',
      'unknown key "mdoe"',
    ],
    [
      'a bad duration',
      SPEC_EXAMPLE.replace('max_age: 15m', 'max_age: 15 minutes'),
      '/tiers/high/max_age',
      'invalid duration',
    ],
    [
      'a bad break-glass window',
      SPEC_EXAMPLE.replace('window: 30d', 'window: 1w'),
      '/break_glass/limit/window',
      'invalid duration',
    ],
    [
      'a bad mode',
      SPEC_EXAMPLE.replace('mode: monitor', 'mode: audit'),
      '/resources/wiki/mode',
      'must be one of "enforce", "monitor"',
    ],
    [
      'a bad approval',
      SPEC_EXAMPLE.replace('high: required', 'high: maybe'),
      '/break_glass/approval/high',
      'must be one of "none", "required", "never"',
    ],
    [
      'an unknown check',
      SPEC_EXAMPLE.replace('checks: [osquery_healthy]', 'checks: [osquery_healthy, antivirus]'),
      '/tiers/low/checks/1',
      'unknown check "antivirus"',
    ],
    [
      'a resource with an unknown tier',
      SPEC_EXAMPLE.replace('tier: low,  mode', 'tier: lowest, mode'),
      '/resources/wiki/tier',
      'unknown tier "lowest"',
    ],
    [
      'an approval for an unknown tier',
      SPEC_EXAMPLE.replace('high: required', 'high: required, critical: never'),
      '/break_glass/approval/critical',
      'unknown tier "critical"',
    ],
    [
      'a tier name with spaces',
      SPEC_EXAMPLE.replace('  low:    {', '  "low tier": {'),
      '/tiers/low tier',
      'invalid name "low tier"',
    ],
    [
      'a missing mode',
      SPEC_EXAMPLE.replace('tier: low,  mode: monitor', 'tier: low'),
      '/resources/wiki',
      'missing required key "mode"',
    ],
  ];
  for (const [what, text, path, problem] of bad) {
    it(`refuses ${what}, naming the file, the path and the problem`, () => {
      const e = refusal(() => parsePolicy(text, 'yaml', CHECKS, 'packs/policy.yaml'));
      expect(e.code).to.equal('invalid');
      const errors = policyErrorsOf(e);
      const hit = errors.find((x) => x.path === path);
      expect(hit, JSON.stringify(errors)).to.not.equal(undefined);
      expect(hit?.file).to.equal('packs/policy.yaml');
      expect(hit?.problem).to.include(problem);
      expect(e.message).to.include(`packs/policy.yaml: ${path}`).and.include(problem);
    });
  }

  it('gives the YAML line of a structural problem', () => {
    const e = refusal(() =>
      parsePolicy(SPEC_EXAMPLE.replace('max_age: 15m', 'max_age: 15x'), 'yaml', CHECKS, 'policy.yaml'),
    );
    const hit = policyErrorsOf(e)[0];
    expect(hit?.line).to.equal(2);
    expect(hit?.message).to.match(/^policy\.yaml: \/tiers\/high\/max_age \(line 2:\d+\): invalid duration/);
  });

  it('refuses YAML syntax errors and duplicate keys with line:column', () => {
    const e = refusal(() =>
      parsePolicy(
        'tiers:\n  high: {max_age: 15m, checks: []}\n  high: {max_age: 1h, checks: []}\nresources: {}\n',
        'yaml',
        [],
        'policy.yaml',
      ),
    );
    expect(policyErrorsOf(e)[0]?.location).to.match(/^3:\d+$/);
    const j = refusal(() => parsePolicy('{"tiers": {},\n "resources": {},}', 'json', [], 'policy.json'));
    expect(policyErrorsOf(j)[0]?.message).to.match(/^policy\.json:2:\d+: invalid JSON: trailing comma/);
  });

  it('refuses an empty document', () => {
    const e = refusal(() => parsePolicy('', 'yaml', [], 'policy.yaml'));
    expect(e.message).to.include('policy.yaml: the policy is empty');
  });

  it('exports a closed schema', () => {
    expect(policySchema.additionalProperties).to.equal(false);
    expect(policySchema.properties.tiers.additionalProperties.additionalProperties).to.equal(false);
  });
});

describe('parsePolicy: one-byte strings', () => {
  it('names and texts from a YAML policy with a character beyond Latin-1 in a comment are one-byte', () => {
    // the yaml library cuts every value out of the source text, which is two-byte for the whole file
    const p = parsePolicy(`# tiers … resources\n${SPEC_EXAMPLE}`, 'yaml', CHECKS, 'policy.yaml');
    const db = p.resources['prod-db'];
    const texts = [db?.name, db?.tier, db?.title, db?.hosts?.[0], p.tiers.high?.name, p.tiers.high?.checks[0]];
    expect(texts).to.deep.equal([
      'prod-db',
      'high',
      'Production database',
      'db.internal.example.com',
      'high',
      'disk_encryption',
    ]);
    expect(texts.map((t) => byteForm(t ?? ''))).to.deep.equal(texts.map(() => 'one'));
    expect(Object.keys(p.resources).map(byteForm)).to.deep.equal(['one', 'one']);
  });

  it('reads keys as the yaml library names them (null, numbers, flow collections) in its refusals', () => {
    const e = refusal(() => parsePolicy(`${SPEC_EXAMPLE}? [a, b]\n: c\n`, 'yaml', CHECKS, 'policy.yaml'));
    expect(e.message).to.include('[ a, b ]');
  });
});

describe('loadPolicy', () => {
  it('reads policy.yaml and policy.json, and names the file in errors', () => {
    const { dir, cleanup } = tempDir({
      'policy.yaml': SPEC_EXAMPLE,
      'policy.json': JSON.stringify({ tiers: { t: { max_age: '5m', checks: ['nope'] } }, resources: {} }),
    });
    try {
      expect(Object.keys(loadPolicy(join(dir, 'policy.yaml'), CHECKS).resources)).to.deep.equal(['prod-db', 'wiki']);
      const e = refusal(() => loadPolicy(join(dir, 'policy.json'), CHECKS));
      expect(e.message)
        .to.include(`${join(dir, 'policy.json')}: /tiers/t/checks/0`)
        .and.include('unknown check "nope"');
      const missing = refusal(() => loadPolicy(join(dir, 'absent.yaml'), CHECKS));
      expect(missing.message).to.include('absent.yaml: cannot read the policy file');
    } finally {
      cleanup();
    }
  });
});
