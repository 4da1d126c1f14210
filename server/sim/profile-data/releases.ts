/**
 * The OS releases simulated hosts run, per platform: the `os_version` row each reports, its kernel
 * version, how common it is in a fleet (weight) and whether it counts as outdated.
 */
import type { TableRow } from '../host-tokens.js';
import type { SimPlatform } from '../identity.js';

export interface OsRelease {
  key: string;
  label: string;
  row: TableRow;
  kernel: string;
  outdated: boolean;
  weight: number;
}

const mac = (version: string, build: string, codename: string, weight: number, outdated = false): OsRelease => {
  const [major = '0', minor = '0', patch = '0'] = version.split('.');
  return {
    key: version,
    label: `macOS ${version}`,
    outdated,
    weight,
    kernel: `${Number(major) + 9}.${minor}.0`,
    row: {
      name: 'macOS',
      version,
      major: Number(major),
      minor: Number(minor),
      patch: Number(patch),
      build,
      platform: 'darwin',
      platform_like: 'darwin',
      codename,
      arch: 'arm64',
      extra: '',
      install_date: '',
      revision: '',
    },
  };
};
const win = (name: string, build: number, ubr: number, weight: number, outdated = false): OsRelease => ({
  key: `${build}.${ubr}`,
  label: `${name} (10.0.${build}.${ubr})`,
  outdated,
  weight,
  kernel: `10.0.${build}.${ubr}`,
  row: {
    name,
    version: `10.0.${build}`,
    major: 10,
    minor: 0,
    patch: '',
    build: String(build),
    platform: 'windows',
    platform_like: 'windows',
    codename: name,
    arch: '64-bit',
    extra: '',
    install_date: 1704067200 + (build % 97) * 86400,
    revision: ubr,
  },
});
const lin = (
  name: string,
  version: string,
  major: number,
  minor: number,
  codename: string,
  platform: string,
  like: string,
  kernel: string,
  weight: number,
  outdated = false,
): OsRelease => ({
  key: `${platform}-${major}.${minor}`,
  label: `${name} ${version}`,
  outdated,
  weight,
  kernel,
  row: {
    name,
    version,
    major,
    minor,
    patch: 0,
    build: '',
    platform,
    platform_like: like,
    codename,
    arch: 'x86_64',
    extra: '',
    install_date: '',
    revision: '',
  },
});

export const OS_RELEASES: Readonly<Record<SimPlatform, readonly OsRelease[]>> = {
  darwin: [
    mac('15.2', '24C101', 'Sequoia', 30),
    mac('15.1.1', '24B91', 'Sequoia', 22),
    mac('14.7.2', '23H311', 'Sonoma', 18),
    mac('14.6.1', '23G93', 'Sonoma', 12),
    mac('13.6.7', '22G720', 'Ventura', 10, true),
    mac('12.7.5', '21H1222', 'Monterey', 8, true),
  ],
  windows: [
    win('Microsoft Windows 11 Enterprise', 26100, 7171, 35),
    win('Microsoft Windows 11 Enterprise', 22631, 6199, 30),
    win('Microsoft Windows 11 Enterprise', 26200, 7171, 10),
    // Windows 10 reached end of support in October 2025.
    win('Microsoft Windows 10 Enterprise', 19045, 6456, 15, true),
    win('Microsoft Windows 11 Pro', 22621, 4890, 10, true),
  ],
  linux: [
    lin('Ubuntu', '24.04.1 LTS (Noble Numbat)', 24, 4, 'noble', 'ubuntu', 'debian', '6.8.0-49-generic', 35),
    lin('Ubuntu', '22.04.5 LTS (Jammy Jellyfish)', 22, 4, 'jammy', 'ubuntu', 'debian', '5.15.0-126-generic', 30),
    lin('Fedora Linux', '41 (Workstation Edition)', 41, 0, '', 'fedora', 'fedora', '6.11.10-300.fc41.x86_64', 10),
    lin('Debian GNU/Linux', '12 (bookworm)', 12, 0, 'bookworm', 'debian', '', '6.1.0-28-amd64', 10),
    lin('Ubuntu', '20.04.6 LTS (Focal Fossa)', 20, 4, 'focal', 'ubuntu', 'debian', '5.4.0-200-generic', 10, true),
    lin('Ubuntu', '18.04.6 LTS (Bionic Beaver)', 18, 4, 'bionic', 'ubuntu', 'debian', '4.15.0-213-generic', 5, true),
  ],
};
