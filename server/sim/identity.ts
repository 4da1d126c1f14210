/**
 * Who a simulated host is: serial, hardware UUID, hostname, model, firmware. Derived on demand from
 * (seed, index) so nothing per host has to be kept in memory; the same seed gives the same fleet.
 */
import {
  ALNUM,
  appleSerial,
  FIRST,
  LAST,
  LINUX_EXTRA,
  MAC_MODELS,
  PC_MODELS,
  type MacModel,
  type PcModel,
} from './identity-data.js';
import { createRng, hashSeed, uuidFrom, type Rng } from './rng.js';

export type SimPlatform = 'darwin' | 'windows' | 'linux';

export interface HostIdentity {
  index: number;
  platform: SimPlatform;
  serial: string;
  /** SMBIOS / platform UUID (upper case, as osquery reports it). */
  uuid: string;
  instanceId: string;
  hostname: string;
  computerName: string;
  localHostname: string;
  vendor: string;
  model: string;
  hardwareVersion: string;
  boardSerial: string;
  cpuBrand: string;
  cpuType: string;
  cpuSubtype: string;
  physicalCores: number;
  logicalCores: number;
  physicalMemory: string;
  arch: string;
  osqueryVersion: string;
  firmware: {
    vendor: string;
    version: string;
    date: string;
    revision: string;
    extra: string;
    address: string;
    size: string;
    volumeSize: string;
    firmwareType: string;
  };
  /** Pick in [0,1) used to choose the host's initial profile. */
  profileDraw: number;
  /** osqueryd pid and start time offset, for osquery_info. */
  pid: number;
}

export type PlatformMix = Readonly<Record<SimPlatform, number>>;

/** A typical corporate laptop fleet: mostly Macs, a third Windows, some Linux. */
export const DEFAULT_PLATFORM_MIX: PlatformMix = { darwin: 0.6, windows: 0.3, linux: 0.1 };

/** osquery versions seen in fleets (weights favour recent releases). */
const OSQUERY_VERSIONS: ReadonlyArray<readonly [string, number]> = [
  ['5.23.1', 30],
  ['5.22.1', 18],
  ['5.20.0', 17],
  ['5.17.0', 14],
  ['5.14.1', 10],
  ['5.12.1', 7],
  ['5.9.1', 4],
];

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function platformOf(seed: number, index: number, mix: PlatformMix = DEFAULT_PLATFORM_MIX): SimPlatform {
  const rng = createRng(hashSeed(seed, index, 'platform'));
  return rng.weighted<SimPlatform>([
    ['darwin', mix.darwin],
    ['windows', mix.windows],
    ['linux', mix.linux],
  ]);
}

/** What every host draws first, whatever its platform (in this order: the draws that follow depend on it). */
interface Drawn {
  index: number;
  seed: number;
  platform: SimPlatform;
  uuid: string;
  instanceId: string;
  person: { first: string; last: string };
  osqueryVersion: string;
  profileDraw: number;
  pid: number;
  /** From the index: keeps host names unique across a large fleet. */
  suffix: string;
}

/** The full identity of host `index` in the fleet seeded by `seed`. Pure. */
export function hostIdentity(seed: number, index: number, mix: PlatformMix = DEFAULT_PLATFORM_MIX): HostIdentity {
  const platform = platformOf(seed, index, mix);
  const rng = createRng(hashSeed(seed, index, 'identity'));
  const d: Drawn = {
    index,
    seed,
    platform,
    uuid: uuidFrom(rng, true),
    instanceId: uuidFrom(rng),
    person: { first: rng.pick(FIRST), last: rng.pick(LAST) },
    osqueryVersion: rng.weighted(OSQUERY_VERSIONS),
    profileDraw: rng.next(),
    pid: rng.int(300, 65000),
    suffix: index.toString(36).toUpperCase().padStart(4, '0'),
  };
  return platform === 'darwin' ? macIdentity(rng, d) : pcIdentity(rng, d);
}

/** A Mac: Apple serial, iBoot (Apple silicon) or EFI firmware. */
function macIdentity(rng: Rng, d: Drawn): HostIdentity {
  const m: MacModel = rng.weighted(MAC_MODELS);
  const serial = appleSerial(rng, m, d.index, d.seed);
  const computerName = `${cap(d.person.first)}'s MacBook ${m.name.includes('Air') ? 'Air' : 'Pro'}`;
  const hostname = `${d.person.first}-${d.person.last}-${d.suffix.toLowerCase()}.local`;
  const silicon = m.arch === 'arm64';
  const iboot = silicon
    ? `iBoot-${rng.pick(['10151.121.1', '11881.41.5', '11881.61.3'])}`
    : `${rng.int(1700, 2100)}.${rng.int(0, 120)}.0.0.0`;
  return {
    index: d.index,
    platform: d.platform,
    serial,
    uuid: d.uuid,
    instanceId: d.instanceId,
    hostname,
    computerName,
    localHostname: hostname.replace(/\.local$/, ''),
    vendor: 'Apple Inc.',
    model: m.model,
    hardwareVersion: silicon ? '' : '1.0',
    boardSerial: serial,
    cpuBrand: silicon ? m.cpu : `${m.cpu}\u0000\u0000\u0000\u0000\u0000\u0000`,
    cpuType: silicon ? 'arm64e' : 'x86_64h',
    cpuSubtype: silicon ? 'ARM64E' : 'Intel x86-64h Haswell',
    physicalCores: m.cores[0],
    logicalCores: m.cores[1],
    physicalMemory: String(m.mem * 1073741824),
    arch: m.arch,
    osqueryVersion: d.osqueryVersion,
    firmware: {
      vendor: 'Apple Inc. ',
      version: `${iboot} `,
      date: silicon ? '' : '12/16/2019 ',
      revision: silicon ? '' : '196 (B&I)',
      extra: '',
      address: silicon ? '' : '0xff990000',
      size: silicon ? '' : '8388608',
      volumeSize: silicon ? '' : '1507328',
      firmwareType: silicon ? 'iBoot' : 'efi',
    },
    profileDraw: d.profileDraw,
    pid: d.pid,
  };
}

/** A PC's hostname: a Windows asset tag (vendor prefix, end of the serial), or person-model-suffix on Linux. */
function pcHostname(d: Drawn, m: PcModel, serial: string): string {
  if (d.platform === 'windows') {
    const prefix = m.vendor === 'LENOVO' ? 'LT' : m.vendor === 'Dell Inc.' ? 'DL' : m.vendor === 'HP' ? 'HP' : 'SF';
    return `${prefix}-${serial.slice(-7).toUpperCase()}`;
  }
  const model =
    m.vendor === 'Framework'
      ? 'framework'
      : m.version
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '')
          .slice(0, 10) || 'laptop';
  return `${d.person.first}-${model}-${d.suffix.toLowerCase()}`;
}

/** A Windows or Linux laptop: the vendor's serial format and BIOS, SMBIOS values as osquery reads them there. */
function pcIdentity(rng: Rng, d: Drawn): HostIdentity {
  const platform = d.platform;
  const m = rng.weighted(
    platform === 'linux'
      ? [...PC_MODELS.filter(([p]) => p.vendor !== 'Microsoft Corporation'), ...LINUX_EXTRA]
      : PC_MODELS,
  );
  const serial = m.serial(rng, d.index, d.seed);
  const bios = m.bios(rng);
  const boardSerial =
    m.vendor === 'LENOVO'
      ? `L1HF${rng.chars(ALNUM, 7)}`
      : m.vendor === 'Dell Inc.'
        ? `/${serial}/CNCMK00${rng.chars('0123456789', 4)}/`
        : serial;
  const hostname = pcHostname(d, m, serial);
  const uuidLower = platform === 'linux' ? d.uuid.toLowerCase() : d.uuid;
  return {
    index: d.index,
    platform,
    serial,
    uuid: uuidLower,
    instanceId: d.instanceId,
    hostname,
    computerName: platform === 'windows' ? hostname : '',
    localHostname: hostname,
    vendor: m.vendor,
    model: m.model,
    hardwareVersion: platform === 'windows' && m.vendor !== 'LENOVO' ? '-1' : m.version,
    boardSerial,
    cpuBrand: m.cpu,
    cpuType: 'x86_64',
    cpuSubtype: platform === 'windows' ? '-1' : String(rng.pick([142, 154, 186])),
    physicalCores: m.cores[0],
    logicalCores: m.cores[1],
    physicalMemory: String(m.mem * 1073741824 - (platform === 'linux' ? rng.int(1, 900) * 1048576 : 0)),
    arch: 'x86_64',
    osqueryVersion: d.osqueryVersion,
    firmware: {
      vendor: m.vendor === 'HP' ? 'HP' : m.vendor,
      version: bios.version,
      date: bios.date,
      revision: bios.revision,
      extra: '',
      address: platform === 'windows' ? '' : '0xe000',
      size: platform === 'windows' ? '' : '16777216',
      volumeSize: platform === 'windows' ? '' : '0',
      firmwareType: 'uefi',
    },
    profileDraw: d.profileDraw,
    pid: d.pid,
  };
}

/** Compare dotted versions numerically ("5.10.0" > "5.9.1"). */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
