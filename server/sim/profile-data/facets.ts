/**
 * Failing facets (firewall off, disk not encrypted, remote login on, …): what each does to a copy of
 * a compliant host's tables, per platform; and how hosts drift between facets over time.
 */
import type { TableRow } from '../host-tokens.js';
import type { SimPlatform } from '../identity.js';
import { proc } from './common.js';

type Patch = (t: Record<string, TableRow[]>) => void;
const setAll = (rows: TableRow[] | undefined, values: TableRow, where?: (r: TableRow) => boolean): void => {
  for (const r of rows ?? []) if (!where || where(r)) Object.assign(r, values);
};

/** Failing facets per platform and what they do to the tables. */
export const FACETS: Readonly<Record<SimPlatform, Readonly<Record<string, Patch>>>> = {
  darwin: {
    firewall_off: (t) => setAll(t['alf'], { global_state: 0, stealth_enabled: 0 }),
    disk_unencrypted: (t) =>
      setAll(t['disk_encryption'], {
        encrypted: 0,
        type: '',
        encryption_status: 'not encrypted',
        filevault_status: 'off',
      }),
    encryption_in_progress: (t) =>
      setAll(t['disk_encryption'], { encrypted: 0, encryption_status: 'encrypting', filevault_status: 'encrypting' }),
    remote_login_on: (t) => {
      setAll(t['sharing_preferences'], { remote_login: 1 });
      t['listening_ports']?.push({
        pid: 1,
        port: 22,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: 5,
        socket: 0,
        path: '',
        net_namespace: '',
      });
    },
    screenlock_off: (t) => {
      setAll(t['screenlock'], { enabled: 0, grace_period: 2147483647 });
      t['managed_policies'] = [];
    },
    sip_off: (t) => setAll(t['sip_config'], { enabled: 0 }, (r) => r['config_flag'] === 'sip'),
    gatekeeper_off: (t) => setAll(t['gatekeeper'], { assessments_enabled: 0 }),
  },
  windows: {
    firewall_off: (t) => {
      setAll(t['windows_security_center'], { firewall: 'Poor' });
      setAll(t['windows_security_products'], { state: 'Off' }, (r) => r['type'] === 'Firewall');
      setAll(t['registry'], { data: '0' }, (r) => r['name'] === 'EnableFirewall');
      setAll(t['services'], { status: 'STOPPED', pid: 0, start_type: 'DISABLED' }, (r) => r['name'] === 'mpssvc');
    },
    disk_unencrypted: (t) =>
      setAll(t['bitlocker_info'], {
        conversion_status: 0,
        protection_status: 0,
        percentage_encrypted: 0,
        encryption_method: 'None',
      }),
    encryption_in_progress: (t) =>
      setAll(t['bitlocker_info'], { conversion_status: 2, protection_status: 0, percentage_encrypted: 43 }),
    remote_login_on: (t) => {
      setAll(t['registry'], { data: '0' }, (r) => r['name'] === 'fDenyTSConnections');
      setAll(
        t['services'],
        { status: 'RUNNING', pid: 1220, start_type: 'AUTO_START', win32_exit_code: 0 },
        (r) => r['name'] === 'TermService',
      );
      t['listening_ports']?.push({
        pid: 1220,
        port: 3389,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: -1,
        socket: -1,
        path: '',
        net_namespace: '',
      });
    },
    screenlock_off: (t) => {
      t['registry'] = (t['registry'] ?? []).filter(
        (r) => r['name'] !== 'InactivityTimeoutSecs' && r['name'] !== 'ScreenSaverIsSecure',
      );
    },
  },
  linux: {
    firewall_off: (t) => {
      setAll(
        t['systemd_units'],
        { active_state: 'inactive', sub_state: 'dead', unit_file_state: 'disabled' },
        (r) => r['id'] === 'ufw.service',
      );
      t['iptables'] = (t['iptables'] ?? []).filter((r) => r['target'] === '').map((r) => ({ ...r, policy: 'ACCEPT' }));
    },
    disk_unencrypted: (t) => {
      t['disk_encryption'] = [
        {
          name: '/dev/nvme0n1p1',
          uuid: '',
          encrypted: 0,
          type: '',
          encryption_status: 'not encrypted',
          uid: '',
          user_uuid: '',
          filevault_status: '',
        },
        {
          name: '/dev/nvme0n1p2',
          uuid: '',
          encrypted: 0,
          type: '',
          encryption_status: 'not encrypted',
          uid: '',
          user_uuid: '',
          filevault_status: '',
        },
      ];
      t['block_devices'] = (t['block_devices'] ?? []).filter((r) => r['type'] !== 'crypto_LUKS');
      setAll(t['mounts'], { device: '/dev/nvme0n1p2', device_alias: '/dev/nvme0n1p2' }, (r) => r['path'] === '/');
    },
    remote_login_on: (t) => {
      setAll(
        t['systemd_units'],
        { active_state: 'active', sub_state: 'running', unit_file_state: 'enabled' },
        (r) => r['id'] === 'ssh.service',
      );
      t['processes']?.push(proc(1102, 'sshd', '/usr/sbin/sshd'));
      t['listening_ports']?.push({
        pid: 1102,
        port: 22,
        protocol: 6,
        family: 2,
        address: '0.0.0.0',
        fd: 3,
        socket: 28811,
        path: '',
        net_namespace: '4026531840',
      });
    },
  },
};

/**
 * How hosts drift (per profile-change opportunity): facets that switch on (things break) and
 * off (people fix them, encryption finishes, the OS gets updated).
 */
export const DRIFT = {
  /** Facets that may switch on for a compliant host. */
  breaks: {
    darwin: ['firewall_off', 'screenlock_off', 'remote_login_on'],
    windows: ['firewall_off', 'remote_login_on', 'screenlock_off'],
    linux: ['firewall_off', 'remote_login_on'],
  } as Readonly<Record<SimPlatform, readonly string[]>>,
  /** Facets that resolve by themselves over time (encryption completes, OS update installs). */
  resolves: [
    'encryption_in_progress',
    'os_outdated',
    'firewall_off',
    'screenlock_off',
    'remote_login_on',
  ] as readonly string[],
} as const;
