/**
 * Linux tables of a compliant host: LUKS disk encryption, mounts, block devices, iptables (ufw),
 * systemd units, processes, ports, and the package table of its family (deb or rpm). The failing
 * facets patch a copy (facets.ts).
 */
import type { TableRow } from '../host-tokens.js';
import { proc } from './common.js';
import type { OsRelease } from './releases.js';

const unit = (id: string, description: string, active: boolean, enabled = active): TableRow => ({
  id,
  description,
  load_state: 'loaded',
  active_state: active ? 'active' : 'inactive',
  sub_state: active ? 'running' : 'dead',
  unit_file_state: enabled ? 'enabled' : 'disabled',
  following: '',
  object_path: `/org/freedesktop/systemd1/unit/${id.replace(/[.-]/g, '_')}`,
  job_id: 0,
  job_type: '',
  job_path: '/',
  fragment_path: `/usr/lib/systemd/system/${id}`,
  user: '',
  source_path: '',
});

/** The tables every Linux release has (the package table comes after them, then authorized_keys). */
const LINUX_TABLES: Readonly<Record<string, readonly TableRow[]>> = {
  disk_encryption: [
    {
      name: '/dev/dm-0',
      uuid: '',
      encrypted: 1,
      type: 'luks2',
      encryption_status: 'encrypted',
      uid: '',
      user_uuid: '',
      filevault_status: '',
    },
    {
      name: '/dev/dm-1',
      uuid: '',
      encrypted: 1,
      type: 'luks2',
      encryption_status: 'encrypted',
      uid: '',
      user_uuid: '',
      filevault_status: '',
    },
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
  ],
  mounts: [
    {
      device: '/dev/mapper/vgubuntu-root',
      device_alias: '/dev/dm-1',
      path: '/',
      type: 'ext4',
      blocks_size: 4096,
      blocks: 122000000,
      blocks_free: 80000000,
      blocks_available: 74000000,
      inodes: 31000000,
      inodes_free: 29000000,
      flags: 'rw,relatime',
    },
    {
      device: '/dev/nvme0n1p1',
      device_alias: '/dev/nvme0n1p1',
      path: '/boot/efi',
      type: 'vfat',
      blocks_size: 4096,
      blocks: 130000,
      blocks_free: 120000,
      blocks_available: 120000,
      inodes: 0,
      inodes_free: 0,
      flags: 'rw,relatime',
    },
  ],
  block_devices: [
    {
      name: '/dev/nvme0n1',
      parent: '',
      vendor: '',
      model: 'SAMSUNG MZVL2512HCJQ-00BL7',
      serial: '',
      size: 1000215216,
      block_size: 512,
      uuid: '',
      type: '',
      label: '',
    },
    {
      name: '/dev/dm-0',
      parent: '/dev/nvme0n1p3',
      vendor: '',
      model: '',
      serial: '',
      size: 997000000,
      block_size: 512,
      uuid: '7d1c2b3a-1111-4222-8333-944455556666',
      type: 'crypto_LUKS',
      label: '',
    },
  ],
  iptables: [
    {
      filter_name: 'filter',
      chain: 'INPUT',
      policy: 'DROP',
      target: '',
      protocol: 0,
      src_port: '0:65535',
      dst_port: '0:65535',
      src_ip: '0.0.0.0',
      src_mask: '0.0.0.0',
      iniface: 'all',
      iniface_mask: '',
      dst_ip: '0.0.0.0',
      dst_mask: '0.0.0.0',
      outiface: 'all',
      outiface_mask: '',
      match: 'no',
      packets: 0,
      bytes: 0,
    },
    {
      filter_name: 'filter',
      chain: 'INPUT',
      policy: 'DROP',
      target: 'ufw-before-input',
      protocol: 0,
      src_port: '0:65535',
      dst_port: '0:65535',
      src_ip: '0.0.0.0',
      src_mask: '0.0.0.0',
      iniface: 'all',
      iniface_mask: '',
      dst_ip: '0.0.0.0',
      dst_mask: '0.0.0.0',
      outiface: 'all',
      outiface_mask: '',
      match: 'no',
      packets: 120394,
      bytes: 98311020,
    },
  ],
  systemd_units: [
    unit('ufw.service', 'Uncomplicated firewall', true),
    unit('ssh.service', 'OpenBSD Secure Shell server', false),
    unit('osqueryd.service', 'The osquery Daemon', true),
    unit('systemd-timesyncd.service', 'Network Time Synchronization', true),
  ],
  processes: [proc(1, 'systemd', '/usr/lib/systemd/systemd'), proc(812, 'osqueryd', '/opt/osquery/bin/osqueryd')],
  listening_ports: [
    {
      pid: 620,
      port: 53,
      protocol: 17,
      family: 2,
      address: '127.0.0.53',
      fd: 13,
      socket: 23104,
      path: '',
      net_namespace: '4026531840',
    },
  ],
};

const DEB_PACKAGES: readonly TableRow[] = [
  {
    name: 'openssh-client',
    version: '1:9.6p1-3ubuntu13.5',
    source: 'openssh',
    size: 4167,
    arch: 'amd64',
    revision: '3ubuntu13.5',
    status: 'install ok installed',
    maintainer: 'Ubuntu Developers',
    section: 'net',
    priority: 'standard',
    admindir: '/var/lib/dpkg',
  },
  {
    name: 'osquery',
    version: '5.14.1-1.linux',
    source: '',
    size: 0,
    arch: 'amd64',
    revision: '1.linux',
    status: 'install ok installed',
    maintainer: 'osquery',
    section: 'default',
    priority: 'extra',
    admindir: '/var/lib/dpkg',
  },
];

const RPM_PACKAGES: readonly TableRow[] = [
  {
    name: 'openssh-clients',
    version: '9.8p1',
    release: '1.fc41.1',
    source: '',
    size: 2700000,
    sha1: '',
    arch: 'x86_64',
    epoch: '',
    install_time: 1763000000,
    vendor: 'Fedora Project',
    package_group: 'Unspecified',
  },
];

/** The Linux tables of a host on `os`: Debian-family releases list deb packages, the others rpm. */
export function linuxTables(os: OsRelease): Record<string, readonly TableRow[]> {
  const deb = String(os.row['platform_like']) === 'debian' || String(os.row['platform']) === 'debian';
  return {
    ...LINUX_TABLES,
    ...(deb ? { deb_packages: DEB_PACKAGES } : { rpm_packages: RPM_PACKAGES }),
    authorized_keys: [],
  };
}
