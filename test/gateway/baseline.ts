/**
 * Devices that report the shipped posture baseline (packs/*.json) the way osqueryd does: enroll from a
 * real enroll fixture, then send one snapshot result line per check, named `pack/<pack>/<query>`, with
 * rows shaped like the check's SQL returns them (osquery sends every column as a string).
 *
 * For every shipped check there is a row set that passes and one that fails (read from the check's SQL
 * and its `pass` expression). `shippedChecks()` reads the repository's packs so a test can prove that
 * this table covers every check the baseline ships, and that the rows only use columns the SQL selects.
 *
 * Used by test/gateway/api.test.ts and by the e2e helpers (test/e2e/support/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_PACKS } from '../support/server.js';
import type { Client, Reply } from '../support/http.js';
import { enrollFrom, snapshotLine, takeEnrollmentChecks, type EnrolledAgent } from '../osquery/agent.js';

export type Row = Record<string, string>;
export type DevicePlatform = 'darwin' | 'linux' | 'windows';

export interface CheckRows {
  pass: Row[];
  fail: Row[];
  /** Text the failing rows put into the interpolated message (proves `{{column}}` interpolation). */
  failMessageContains?: string;
}

/** Passing and failing result sets of every shipped check, by check id. */
export const CHECK_ROWS: Record<string, CheckRows> = {
  // posture-common (every platform)
  osquery_healthy: {
    pass: [{ version: '5.13.1', config_valid: '1', watcher: '4120', start_time: '1795780000' }],
    fail: [{ version: '5.13.1', config_valid: '0', watcher: '4120', start_time: '1795780000' }],
  },
  osquery_recent: {
    pass: [{ version: '5.13.1' }],
    fail: [{ version: '5.4.0' }],
    failMessageContains: 'The osquery agent on this device is 5.4.0; we need 5.12.0 or later.',
  },
  // posture-macos
  macos_os_version: {
    pass: [{ name: 'macOS', version: '14.5', major: '14', minor: '5', patch: '0', build: '23F79' }],
    fail: [{ name: 'macOS', version: '12.1', major: '12', minor: '1', patch: '0', build: '21C52' }],
    failMessageContains: 'Your macOS is 12.1; we need 14.4 or later.',
  },
  macos_filevault: {
    pass: [
      {
        name: '/dev/disk3s1',
        encrypted: '1',
        filevault_status: 'on',
        user_uuid: '9D4B4C6A-3F1E-4B7E-9A52-6E0C1F2D3A4B',
      },
    ],
    fail: [{ name: '/dev/disk3s1', encrypted: '0', filevault_status: 'off', user_uuid: '' }],
  },
  macos_firewall: {
    pass: [{ global_state: '1', stealth_enabled: '0' }],
    fail: [{ global_state: '0', stealth_enabled: '0' }],
  },
  macos_remote_login_off: {
    pass: [{ remote_login: '0', screen_sharing: '0', remote_management: '0' }],
    fail: [{ remote_login: '1', screen_sharing: '0', remote_management: '0' }],
    failMessageContains: 'Remote Login: 1, Screen Sharing: 0, Remote Management: 0',
  },
  macos_screen_lock: {
    pass: [{ enabled: '1', grace_period: '60' }],
    fail: [{ enabled: '1', grace_period: '3600' }],
  },
  macos_sip: {
    pass: [{ config_flag: 'sip', enabled: '1', enabled_nvram: '1' }],
    fail: [{ config_flag: 'sip', enabled: '0', enabled_nvram: '0' }],
  },
  macos_gatekeeper: {
    pass: [{ assessments_enabled: '1', dev_id_enabled: '1' }],
    fail: [{ assessments_enabled: '0', dev_id_enabled: '0' }],
  },
  // posture-linux
  linux_os_version: {
    pass: [{ name: 'Ubuntu', platform: 'ubuntu', version: '22.04.4 LTS (Jammy Jellyfish)', major: '22', minor: '04' }],
    fail: [{ name: 'Ubuntu', platform: 'ubuntu', version: '20.04.3 LTS (Focal Fossa)', major: '20', minor: '04' }],
    failMessageContains:
      'Your system runs Ubuntu 20.04.3 LTS (Focal Fossa), which no longer receives security updates.',
  },
  linux_disk_encryption: {
    pass: [{ path: '/', name: '/dev/dm-0', encrypted: '1', type: 'LUKS2' }],
    fail: [{ path: '/', name: '/dev/nvme0n1p2', encrypted: '0', type: '' }],
  },
  linux_firewall: {
    pass: [{ id: 'ufw.service', active_state: 'active' }],
    fail: [],
  },
  linux_ssh_not_exposed: {
    pass: [],
    fail: [{ address: '0.0.0.0', port: '22', name: 'sshd' }],
    failMessageContains: 'An SSH server (sshd) is listening on 0.0.0.0 port 22',
  },
  // posture-windows
  windows_os_version: {
    pass: [{ name: 'Microsoft Windows 11 Enterprise', version: '10.0.22631', build: '22631' }],
    fail: [{ name: 'Microsoft Windows 11 Enterprise', version: '10.0.22000', build: '22000' }],
    failMessageContains: 'Your Windows is Microsoft Windows 11 Enterprise 10.0.22000;',
  },
  windows_bitlocker: {
    pass: [{ drive_letter: 'C:', protection_status: '1', conversion_status: '1', percentage_encrypted: '100' }],
    fail: [{ drive_letter: 'C:', protection_status: '0', conversion_status: '0', percentage_encrypted: '0' }],
    failMessageContains: 'protection status 0, 0% encrypted',
  },
  windows_firewall: {
    pass: [{ firewall: 'Good' }],
    fail: [{ firewall: 'Poor' }],
    failMessageContains: 'Windows Security reports the firewall as "Poor".',
  },
  windows_rdp_off: {
    pass: [{ data: '1' }],
    fail: [{ data: '0' }],
  },
  windows_screen_lock: {
    pass: [{ data: '600' }],
    fail: [],
  },
};

/** A check as the repository's packs define it. */
export interface ShippedCheck {
  id: string;
  pack: string;
  /** The pack-level (or query-level) platform, undefined = every platform. */
  platform: string | undefined;
  sql: string;
  pass: string | undefined;
  message: string;
  title: string;
  remediationUrl: string | undefined;
}

interface PackFile {
  platform?: string;
  queries?: Record<
    string,
    {
      query: string;
      platform?: string;
      check?: { title: string; message: string; pass?: string; remediation_url?: string };
    }
  >;
}

/** The posture checks of the repository's packs/*.json (pack name = file name without extension). */
export function shippedChecks(dir = REPO_PACKS): Map<string, ShippedCheck> {
  const out = new Map<string, ShippedCheck>();
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const pack = path.basename(f, '.json');
    const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as PackFile;
    for (const [id, q] of Object.entries(doc.queries ?? {})) {
      if (!q.check) continue;
      out.set(id, {
        id,
        pack,
        platform: q.platform ?? doc.platform,
        sql: q.query,
        pass: q.check.pass,
        message: q.check.message,
        title: q.check.title,
        remediationUrl: q.check.remediation_url,
      });
    }
  }
  return out;
}

const PLATFORM_FIXTURE: Record<DevicePlatform, string> = {
  darwin: 'enroll-request-darwin10.14.6-osquery4.6.0.json',
  linux: 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json',
  windows: 'enroll-request-windows11-osquery5.4.0.json',
};

/** Does a shipped check apply to a device of this platform (the baseline only uses these pack platforms)? */
export function appliesTo(check: ShippedCheck, platform: DevicePlatform): boolean {
  return (
    check.platform === undefined ||
    check.platform === 'all' ||
    check.platform
      .split(',')
      .map((p) => p.trim())
      .includes(platform)
  );
}

export interface PostureOptions {
  /** Check ids to report with their failing rows; every other applicable check passes. */
  failing?: readonly string[];
  /** Agent run time in seconds (osquery's `unixTime`). */
  unixTime: number;
}

/** The result log lines osqueryd would send for the baseline checks that apply to `platform`. */
export function postureLines(
  platform: DevicePlatform,
  opts: PostureOptions,
  checks = shippedChecks(),
): Array<Record<string, unknown>> {
  const failing = new Set(opts.failing ?? []);
  for (const id of failing) if (!checks.has(id)) throw new Error(`no shipped check "${id}"`);
  const lines: Array<Record<string, unknown>> = [];
  for (const c of checks.values()) {
    if (!appliesTo(c, platform)) continue;
    const rows = CHECK_ROWS[c.id];
    if (!rows) throw new Error(`test/gateway/baseline.ts has no rows for the shipped check "${c.id}": add them`);
    lines.push(snapshotLine(`pack/${c.pack}/${c.id}`, opts.unixTime, failing.has(c.id) ? rows.fail : rows.pass));
  }
  return lines;
}

export interface Device {
  serial: string;
  platform: DevicePlatform;
  agent: EnrolledAgent;
  /**
   * The checks the server queued at enrollment (id → SQL), taken by the first distributed/read and left
   * unanswered: the device's queue is empty for the test, and its posture is what it reports.
   */
  enrollmentChecks: Record<string, string>;
  /** POST /log with the baseline results (all pass except `failing`); throws unless acknowledged with {}. */
  report(opts: PostureOptions): Promise<Reply>;
  /** POST /log with one check's rows. */
  reportCheck(checkId: string, rows: Row[], unixTime: number): Promise<Reply>;
}

/** Enrolls a device of `platform` from its real enroll fixture under its own serial and hardware UUID. */
export async function enrollDevice(
  client: Client,
  enrollSecret: string,
  platform: DevicePlatform,
  serial: string,
): Promise<Device> {
  const agent = await enrollFrom(client, enrollSecret, PLATFORM_FIXTURE[platform], {
    serial,
    uuid: `uuid-${serial}`,
    hostname: `${serial.toLowerCase()}.example.test`,
  });
  const { queries: enrollmentChecks } = await takeEnrollmentChecks(agent);
  const checks = shippedChecks();
  const send = async (data: Array<Record<string, unknown>>): Promise<Reply> => {
    const r = await agent.post('/log', { log_type: 'result', data });
    if (r.status !== 200 || JSON.stringify(r.json) !== '{}')
      throw new Error(`log not acknowledged: ${r.status} ${r.text}`);
    return r;
  };
  return {
    serial,
    platform,
    agent,
    enrollmentChecks,
    report: (opts) => send(postureLines(platform, opts, checks)),
    reportCheck: (checkId, rows, unixTime) => {
      const c = checks.get(checkId);
      if (!c) throw new Error(`no shipped check "${checkId}"`);
      return send([snapshotLine(`pack/${c.pack}/${c.id}`, unixTime, rows)]);
    },
  };
}
