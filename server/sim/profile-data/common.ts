/**
 * The tables every platform has, shaped per platform: the host's identity (system_info, osquery_info,
 * platform_info: per-host tokens), os_version, kernel, uptime, users, osquery_flags, network; and
 * `proc`, a processes row.
 */
import { tok, type TableRow } from '../host-tokens.js';
import type { SimPlatform } from '../identity.js';
import type { OsRelease } from './releases.js';

/** The host's identity: every value that differs per host is a token. */
function identityTables(platform: SimPlatform): Record<string, TableRow[]> {
  const mask = platform === 'darwin' ? 21 : platform === 'windows' ? 2 : 9;
  return {
    system_info: [
      {
        hostname: tok('hostname'),
        uuid: tok('uuid'),
        cpu_type: tok('cpu_type'),
        cpu_subtype: tok('cpu_subtype'),
        cpu_brand: tok('cpu_brand'),
        cpu_physical_cores: tok('physical_cores'),
        cpu_logical_cores: tok('logical_cores'),
        cpu_sockets: platform === 'windows' ? 1 : '',
        cpu_microcode: platform === 'darwin' ? '' : '0x4121',
        physical_memory: tok('physical_memory'),
        hardware_vendor: tok('vendor'),
        hardware_model: tok('model'),
        hardware_version: tok('hardware_version'),
        hardware_serial: tok('serial'),
        board_vendor: tok('vendor'),
        board_model: tok('model'),
        board_version: platform === 'darwin' ? '' : 'SDK0J40697 WIN',
        board_serial: tok('board_serial'),
        computer_name: tok('computer_name'),
        local_hostname: tok('local_hostname'),
        ...(platform === 'windows' ? { emulated_cpu_type: '' } : {}),
      },
    ],
    osquery_info: [
      {
        pid: tok('pid'),
        uuid: tok('uuid'),
        instance_id: tok('instance_id'),
        version: tok('osquery_version'),
        config_hash: tok('config_hash'),
        config_valid: tok('config_valid'),
        extensions: 'inactive',
        build_platform: platform,
        build_distro: platform === 'darwin' ? '10.15' : platform === 'windows' ? '10' : 'centos7',
        start_time: 1764230400,
        watcher: platform === 'windows' ? -1 : tok('watcher'),
        platform_mask: mask,
      },
    ],
    platform_info: [
      {
        vendor: tok('fw_vendor'),
        version: tok('fw_version'),
        date: tok('fw_date'),
        revision: tok('fw_revision'),
        extra: tok('fw_extra'),
        firmware_type: tok('fw_type'),
        address: tok('fw_address'),
        size: tok('fw_size'),
        volume_size: tok('fw_volume_size'),
      },
    ],
  };
}

function kernelTables(platform: SimPlatform, os: OsRelease): Record<string, TableRow[]> {
  return {
    kernel_info: [
      {
        version: os.kernel,
        arguments: platform === 'linux' ? 'ro quiet splash' : '',
        path:
          platform === 'linux'
            ? '/boot/vmlinuz'
            : platform === 'darwin'
              ? '/System/Library/Kernels/kernel'
              : 'C:\\Windows\\System32\\ntoskrnl.exe',
        device: platform === 'linux' ? '/dev/nvme0n1p2' : '',
      },
    ],
    uptime: [{ days: 3, hours: 4, minutes: 12, seconds: 9, total_seconds: 274329 }],
  };
}

function usersOf(platform: SimPlatform): TableRow[] {
  return platform === 'windows'
    ? [
        {
          uid: 500,
          gid: 513,
          uid_signed: 500,
          gid_signed: 513,
          username: 'Administrator',
          description: 'Built-in account for administering the computer/domain',
          directory: '',
          shell: 'C:\\Windows\\system32\\cmd.exe',
          uuid: 'S-1-5-21-1004336348-1177238915-682003330-500',
          type: 'local',
          is_hidden: 0,
        },
        {
          uid: 1001,
          gid: 513,
          uid_signed: 1001,
          gid_signed: 513,
          username: tok('username'),
          description: '',
          directory: 'C:\\Users\\user',
          shell: 'C:\\Windows\\system32\\cmd.exe',
          uuid: 'S-1-5-21-1004336348-1177238915-682003330-1001',
          type: 'local',
          is_hidden: 0,
        },
      ]
    : [
        {
          uid: 0,
          gid: 0,
          uid_signed: 0,
          gid_signed: 0,
          username: 'root',
          description: platform === 'darwin' ? 'System Administrator' : 'root',
          directory: platform === 'darwin' ? '/var/root' : '/root',
          shell: platform === 'darwin' ? '/bin/sh' : '/bin/bash',
          uuid: '',
          type: '',
          is_hidden: 0,
        },
        {
          uid: platform === 'darwin' ? 501 : 1000,
          gid: platform === 'darwin' ? 20 : 1000,
          uid_signed: platform === 'darwin' ? 501 : 1000,
          gid_signed: platform === 'darwin' ? 20 : 1000,
          username: tok('username'),
          description: '',
          directory: platform === 'darwin' ? '/Users/user' : '/home/user',
          shell: '/bin/zsh',
          uuid: '',
          type: '',
          is_hidden: 0,
        },
      ];
}

const OSQUERY_FLAGS: readonly TableRow[] = [
  {
    name: 'logger_plugin',
    type: 'string',
    description: 'Logger plugin name',
    default_value: 'filesystem',
    value: 'tls',
    shell_only: 0,
  },
  {
    name: 'config_plugin',
    type: 'string',
    description: 'Config plugin name',
    default_value: 'filesystem',
    value: 'tls',
    shell_only: 0,
  },
  {
    name: 'disable_distributed',
    type: 'bool',
    description: 'Disable distributed queries',
    default_value: 'true',
    value: 'false',
    shell_only: 0,
  },
];

const ETC_HOSTS: readonly TableRow[] = [
  { address: '127.0.0.1', hostnames: 'localhost' },
  { address: '::1', hostnames: 'localhost' },
];

function networkTables(platform: SimPlatform): Record<string, TableRow[]> {
  return {
    interface_addresses: [
      {
        interface: platform === 'darwin' ? 'en0' : platform === 'windows' ? '12' : 'wlp0s20f3',
        address: '10.20.30.40',
        mask: '255.255.255.0',
        broadcast: '10.20.30.255',
        point_to_point: '',
        type: platform === 'windows' ? 'dhcp' : '',
        friendly_name: platform === 'windows' ? 'Wi-Fi' : '',
      },
    ],
    secureboot: [
      {
        secure_boot: 1,
        secure_mode: platform === 'darwin' ? 2 : '',
        description: '',
        kernel_extensions: '',
        mdm_operations: '',
        setup_mode: platform === 'darwin' ? '' : 0,
      },
    ],
  };
}

/** The tables every host has, for `platform` on `os` (in the order osquery's tables are listed here). */
export function sharedTables(platform: SimPlatform, os: OsRelease): Record<string, readonly TableRow[]> {
  return {
    os_version: [os.row],
    ...identityTables(platform),
    ...kernelTables(platform, os),
    users: usersOf(platform),
    osquery_flags: OSQUERY_FLAGS,
    etc_hosts: ETC_HOSTS,
    ...networkTables(platform),
  };
}

/** A `processes` row. */
export function proc(pid: number, name: string, path: string, uid = 0): TableRow {
  return {
    pid,
    name,
    path,
    cmdline: path,
    state: 'S',
    cwd: '/',
    root: '/',
    uid,
    gid: uid,
    euid: uid,
    egid: uid,
    suid: uid,
    sgid: uid,
    on_disk: 1,
    wired_size: 0,
    resident_size: 24576000,
    total_size: 420000000,
    user_time: 1200,
    system_time: 800,
    disk_bytes_read: 0,
    disk_bytes_written: 0,
    start_time: 1764230400,
    parent: 1,
    pgroup: pid,
    threads: 4,
    nice: 0,
  };
}
