import { expect } from 'chai';
import { join } from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import type { CheckDef, Row } from '../../server/domain/types.js';
import { compileConfig } from '../../server/packs/compile.js';
import { loadPacksDir } from '../../server/packs/load.js';
import { familiesOf } from '../../server/packs/platform.js';
import { loadPolicy } from '../../server/packs/policy.js';
import { createTablesDb, stripOsqueryCollations, validateSql } from '../../server/osquery-tables/tables.js';
import { BASELINE_DIR, host } from './helpers.js';

const TABLE_PLATFORMS = ['darwin', 'linux', 'windows'] as const;
const baseline = loadPacksDir(BASELINE_DIR);
const platformsOf = (c: Pick<CheckDef, 'platform'>) =>
  TABLE_PLATFORMS.filter((p) => familiesOf(c.platform).includes(p));

/** A reference version_at_least for exercising the expressions (the posture engine has its own). */
function versionAtLeast(actual: string, wanted: string): boolean {
  const a = actual.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const w = wanted.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, w.length); i++) {
    const d = (a[i] ?? 0) - (w[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
const env = new Environment()
  .registerVariable('rows', 'list<map<string, string>>')
  .registerFunction('version_at_least(string, string): bool', versionAtLeast);
const passes = (c: CheckDef, rows: Row[]): boolean =>
  c.pass ? env.evaluate(c.pass, { rows }) === true : rows.length > 0;

describe('the shipped baseline packs/', () => {
  it('loads without errors or warnings', () => {
    expect(baseline.errors).to.deep.equal([]);
    expect(baseline.warnings).to.deep.equal([]);
    expect(baseline.packs.map((p) => p.name)).to.deep.equal([
      'posture-common',
      'posture-linux',
      'posture-macos',
      'posture-windows',
    ]);
  });

  it('defines the posture checks of every platform, each person-ready', () => {
    const ids = baseline.checks.map((c) => c.id).sort();
    expect(ids).to.include.members([
      'macos_os_version',
      'macos_filevault',
      'macos_firewall',
      'macos_remote_login_off',
      'macos_screen_lock',
      'macos_sip',
      'macos_gatekeeper',
      'windows_os_version',
      'windows_bitlocker',
      'windows_firewall',
      'windows_rdp_off',
      'windows_screen_lock',
      'linux_os_version',
      'linux_disk_encryption',
      'linux_firewall',
      'linux_ssh_not_exposed',
      'osquery_healthy',
      'osquery_recent',
    ]);
    for (const c of baseline.checks) {
      expect(c.remediationUrl, c.id).to.match(/^https:\/\//);
      expect(c.title.length, c.id).to.be.greaterThan(5);
      expect(c.message.length, c.id).to.be.greaterThan(30);
      expect(c.snapshot, c.id).to.equal(true);
      expect(c.intervalSeconds, c.id).to.equal(300);
    }
  });

  for (const c of baseline.checks) {
    const platforms = platformsOf(c);
    it(`${c.id}: the query parses and uses only real tables and columns on ${platforms.join(', ')}`, () => {
      expect(platforms.length).to.be.greaterThan(0);
      for (const p of platforms) expect(validateSql(c.sql, p), `${c.id} on ${p}`).to.deep.equal({ ok: true });
    });

    it(`${c.id}: every {{placeholder}} of the message is a column of the query`, () => {
      const names = [...c.message.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]);
      for (const p of platforms) {
        const cols = createTablesDb(p)
          .prepare(stripOsqueryCollations(c.sql))
          .columns()
          .map((col) => col.name);
        expect(cols, `${c.id} on ${p}`).to.include.members(names);
      }
    });
  }

  it('refuses the queries on platforms they were not written for (the validator is not a rubber stamp)', () => {
    const byId = new Map(baseline.checks.map((c) => [c.id, c]));
    expect(validateSql(byId.get('macos_sip')?.sql ?? '', 'windows').ok).to.equal(false);
    expect(validateSql(byId.get('windows_bitlocker')?.sql ?? '', 'linux').ok).to.equal(false);
    expect(validateSql(byId.get('linux_firewall')?.sql ?? '', 'darwin').ok).to.equal(false);
  });

  const samples: Record<string, { good: Row[]; bad: Row[] }> = {
    macos_os_version: { good: [{ version: '14.4.1' }], bad: [{ version: '13.6.7' }] },
    macos_filevault: {
      good: [{ filevault_status: 'on', encrypted: '1', user_uuid: 'A' }],
      bad: [{ filevault_status: 'off', encrypted: '0', user_uuid: '' }],
    },
    macos_firewall: { good: [{ global_state: '1' }], bad: [{ global_state: '0' }] },
    macos_remote_login_off: {
      good: [{ remote_login: '0', screen_sharing: '0', remote_management: '0' }],
      bad: [{ remote_login: '1', screen_sharing: '0', remote_management: '0' }],
    },
    macos_screen_lock: { good: [{ enabled: '1', grace_period: '5' }], bad: [{ enabled: '1', grace_period: '3600' }] },
    macos_sip: { good: [{ enabled: '1' }], bad: [{ enabled: '0' }] },
    macos_gatekeeper: { good: [{ assessments_enabled: '1' }], bad: [{ assessments_enabled: '0' }] },
    windows_os_version: { good: [{ version: '10.0.26100' }], bad: [{ version: '10.0.19045' }] },
    windows_bitlocker: { good: [{ protection_status: '1' }], bad: [{ protection_status: '0' }] },
    windows_firewall: { good: [{ firewall: 'Good' }], bad: [{ firewall: 'Poor' }] },
    windows_rdp_off: { good: [{ data: '1' }], bad: [{ data: '0' }] },
    windows_screen_lock: { good: [{ data: '600' }], bad: [] },
    linux_os_version: {
      good: [{ platform: 'ubuntu', major: '24', minor: '04' }],
      bad: [{ platform: 'ubuntu', major: '20', minor: '04' }],
    },
    linux_disk_encryption: { good: [{ encrypted: '1' }], bad: [{ encrypted: '0' }] },
    linux_firewall: { good: [{ id: 'ufw.service', active_state: 'active' }], bad: [] },
    linux_ssh_not_exposed: { good: [], bad: [{ address: '0.0.0.0', port: '22', name: 'sshd' }] },
    osquery_healthy: { good: [{ config_valid: '1' }], bad: [{ config_valid: '0' }] },
    osquery_recent: { good: [{ version: '5.23.1' }], bad: [{ version: '5.9.1' }] },
  };
  for (const [id, { good, bad }] of Object.entries(samples)) {
    it(`${id}: passes on a compliant device and fails on a non-compliant one`, () => {
      const c = baseline.checks.find((x) => x.id === id);
      expect(c, id).to.not.equal(undefined);
      if (!c) return;
      expect(passes(c, good)).to.equal(true);
      expect(passes(c, bad)).to.equal(false);
    });
  }

  it('compiles a config for each platform holding that platform’s checks and the common ones', () => {
    const idsFor = (p: 'darwin' | 'windows' | 'linux', os: string) =>
      Object.values(compileConfig(host(p, os), baseline.packs).packs)
        .flatMap((pk) => Object.keys(pk.queries))
        .sort();
    expect(idsFor('darwin', 'darwin')).to.deep.equal([
      'macos_filevault',
      'macos_firewall',
      'macos_gatekeeper',
      'macos_os_version',
      'macos_remote_login_off',
      'macos_screen_lock',
      'macos_sip',
      'osquery_healthy',
      'osquery_recent',
    ]);
    expect(idsFor('windows', 'windows')).to.deep.equal([
      'osquery_healthy',
      'osquery_recent',
      'windows_bitlocker',
      'windows_firewall',
      'windows_os_version',
      'windows_rdp_off',
      'windows_screen_lock',
    ]);
    expect(idsFor('linux', 'ubuntu')).to.deep.equal([
      'linux_disk_encryption',
      'linux_firewall',
      'linux_os_version',
      'linux_ssh_not_exposed',
      'osquery_healthy',
      'osquery_recent',
    ]);
  });

  it('ships a policy.yaml whose tiers use checks of all three platforms', () => {
    const policy = loadPolicy(
      join(BASELINE_DIR, 'policy.yaml'),
      baseline.checks.map((c) => c.id),
    );
    expect(Object.keys(policy.tiers).sort()).to.deep.equal(['high', 'low', 'medium']);
    expect(policy.tiers.high?.maxAgeMs).to.equal(15 * 60_000);
    expect(policy.tiers.medium?.maxAgeMs).to.equal(3_600_000);
    expect(policy.tiers.low?.maxAgeMs).to.equal(86_400_000);
    for (const tier of Object.values(policy.tiers)) {
      for (const prefix of ['macos_', 'windows_', 'linux_']) {
        expect(
          tier.checks.some((id) => id.startsWith(prefix)),
          `${tier.name} ${prefix}`,
        ).to.equal(true);
      }
    }
    expect(policy.resources['prod-db']).to.include({ tier: 'high', mode: 'enforce' });
    expect(policy.resources.wiki).to.include({ tier: 'low', mode: 'monitor' });
    expect(policy.breakGlass.approval).to.deep.equal({ high: 'required', low: 'none', medium: 'none' });
  });
});
