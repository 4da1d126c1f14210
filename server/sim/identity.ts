/**
 * Who a simulated host is: serial, hardware UUID, hostname, model, firmware. Derived on demand from
 * (seed, index) so nothing per host has to be kept in memory; the same seed gives the same fleet.
 */
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

const NO_VOWELS = '0123456789BCDFGHJKLMNPQRSTVWXYZ';
const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

interface MacModel {
  model: string;
  name: string;
  cpu: string;
  arch: 'arm64' | 'x86_64';
  cores: [number, number];
  mem: number;
  codes: string[];
}
const MAC_MODELS: ReadonlyArray<readonly [MacModel, number]> = [
  [
    {
      model: 'MacBookPro18,3',
      name: 'MacBook Pro (14-inch, 2021)',
      cpu: 'Apple M1 Pro',
      arch: 'arm64',
      cores: [10, 10],
      mem: 16,
      codes: ['Q05P', 'MD6M'],
    },
    18,
  ],
  [
    {
      model: 'Mac14,2',
      name: 'MacBook Air (M2, 2022)',
      cpu: 'Apple M2',
      arch: 'arm64',
      cores: [8, 8],
      mem: 16,
      codes: ['Q6L4'],
    },
    16,
  ],
  [
    {
      model: 'Mac14,9',
      name: 'MacBook Pro (14-inch, 2023)',
      cpu: 'Apple M2 Pro',
      arch: 'arm64',
      cores: [12, 12],
      mem: 32,
      codes: ['VQ9X'],
    },
    14,
  ],
  [
    {
      model: 'Mac15,3',
      name: 'MacBook Pro (14-inch, M3, Nov 2023)',
      cpu: 'Apple M3',
      arch: 'arm64',
      cores: [8, 8],
      mem: 16,
      codes: [],
    },
    16,
  ],
  [
    {
      model: 'Mac15,12',
      name: 'MacBook Air (13-inch, M3, 2024)',
      cpu: 'Apple M3',
      arch: 'arm64',
      cores: [8, 8],
      mem: 16,
      codes: [],
    },
    12,
  ],
  [
    {
      model: 'Mac16,1',
      name: 'MacBook Pro (14-inch, M4, 2024)',
      cpu: 'Apple M4',
      arch: 'arm64',
      cores: [10, 10],
      mem: 16,
      codes: [],
    },
    10,
  ],
  [
    {
      model: 'MacBookAir10,1',
      name: 'MacBook Air (M1, 2020)',
      cpu: 'Apple M1',
      arch: 'arm64',
      cores: [8, 8],
      mem: 8,
      codes: ['Q6LR', 'Q6L8'],
    },
    8,
  ],
  [
    {
      model: 'Mac15,7',
      name: 'MacBook Pro (16-inch, Nov 2023)',
      cpu: 'Apple M3 Pro',
      arch: 'arm64',
      cores: [12, 12],
      mem: 36,
      codes: [],
    },
    6,
  ],
];

interface PcModel {
  vendor: string;
  model: string;
  version: string;
  cpu: string;
  cores: [number, number];
  mem: number;
  serial: SerialFn;
  bios: (r: Rng) => { version: string; date: string; revision: string };
}
/**
 * The part of a serial that makes it unique: the host index mapped bijectively (multiply by a prime
 * coprime to the space, add a seed offset, modulo the space) into `n` characters of `alphabet`.
 * Different indexes therefore never collide, yet the characters look random.
 */
export function uniqueChars(alphabet: string, n: number, index: number, seed: number): string {
  const base = alphabet.length;
  const space = base ** n;
  const prime = 1_000_003;
  const offset = (seed * 2654435761) % space;
  // index*prime stays below 2^53 for any fleet we simulate (index < 10^9).
  let v = ((index % space) * prime + offset) % space;
  let out = '';
  for (let i = 0; i < n; i++) {
    out = alphabet.charAt(v % base) + out;
    v = Math.floor(v / base);
  }
  return out;
}

type SerialFn = (r: Rng, index: number, seed: number) => string;
const lenovoSerial: SerialFn = (r, i, s) => r.pick(['PF', 'PF', 'PC', 'R9', 'MP']) + uniqueChars(ALNUM, 6, i, s + 1);
const dellTag: SerialFn = (_r, i, s) => uniqueChars(NO_VOWELS, 7, i, s + 2);
const hpSerial: SerialFn = (r, i, s) => r.pick(['5CG', '5CD', 'CND']) + uniqueChars(ALNUM, 7, i, s + 3);
const surfaceSerial: SerialFn = (_r, i, s) => '0' + uniqueChars('0123456789', 11, i, s + 4);
const frameworkSerial: SerialFn = (r, i, s) =>
  'FRAN' + r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 4) + uniqueChars(ALNUM, 10, i, s + 5);
const biosDate = (r: Rng): string =>
  `${String(r.int(1, 12)).padStart(2, '0')}/${String(r.int(1, 28)).padStart(2, '0')}/${r.int(2022, 2025)}`;

const PC_MODELS: ReadonlyArray<readonly [PcModel, number]> = [
  [
    {
      vendor: 'LENOVO',
      model: '21HD003GUS',
      version: 'ThinkPad T14 Gen 4',
      cpu: '13th Gen Intel(R) Core(TM) i7-1365U',
      cores: [10, 12],
      mem: 32,
      serial: lenovoSerial,
      bios: (r) => {
        const v = r.int(20, 45);
        return { version: `R2FET${v}W (1.${v} )`, date: biosDate(r), revision: `1.${v}` };
      },
    },
    22,
  ],
  [
    {
      vendor: 'LENOVO',
      model: '21CB007CUS',
      version: 'ThinkPad X1 Carbon Gen 10',
      cpu: '12th Gen Intel(R) Core(TM) i7-1260P',
      cores: [12, 16],
      mem: 16,
      serial: lenovoSerial,
      bios: (r) => {
        const v = r.int(40, 70);
        return { version: `N3AET${v}W (1.${v} )`, date: biosDate(r), revision: `1.${v}` };
      },
    },
    14,
  ],
  [
    {
      vendor: 'Dell Inc.',
      model: 'Latitude 5440',
      version: '',
      cpu: '13th Gen Intel(R) Core(TM) i5-1345U',
      cores: [10, 12],
      mem: 16,
      serial: dellTag,
      bios: (r) => {
        const v = `1.${r.int(8, 20)}.${r.int(0, 2)}`;
        return { version: v, date: biosDate(r), revision: v.split('.').slice(0, 2).join('.') };
      },
    },
    20,
  ],
  [
    {
      vendor: 'Dell Inc.',
      model: 'XPS 13 9315',
      version: '',
      cpu: '12th Gen Intel(R) Core(TM) i7-1250U',
      cores: [10, 12],
      mem: 16,
      serial: dellTag,
      bios: (r) => {
        const v = `1.${r.int(10, 24)}.0`;
        return { version: v, date: biosDate(r), revision: v.split('.').slice(0, 2).join('.') };
      },
    },
    10,
  ],
  [
    {
      vendor: 'HP',
      model: 'HP EliteBook 840 G10 Notebook PC',
      version: 'SBKPF',
      cpu: '13th Gen Intel(R) Core(TM) i7-1355U',
      cores: [10, 12],
      mem: 32,
      serial: hpSerial,
      bios: (r) => {
        const v = `V70 Ver. 01.0${r.int(3, 8)}.0${r.int(0, 9)}`;
        return { version: v, date: biosDate(r), revision: `${r.int(3, 8)}.${r.int(0, 9)}` };
      },
    },
    14,
  ],
  [
    {
      vendor: 'Microsoft Corporation',
      model: 'Surface Laptop 5',
      version: '124I:00036T:000M:0300000D:11',
      cpu: '12th Gen Intel(R) Core(TM) i7-1265U',
      cores: [10, 12],
      mem: 16,
      serial: surfaceSerial,
      bios: (r) => ({
        version: `${r.int(10, 25)}.${r.int(100, 999)}.${r.int(100, 999)}`,
        date: '1601-01-01',
        revision: '255.255',
      }),
    },
    8,
  ],
];
const LINUX_EXTRA: ReadonlyArray<readonly [PcModel, number]> = [
  [
    {
      vendor: 'Framework',
      model: 'Laptop 13 (AMD Ryzen 7040Series)',
      version: 'A7',
      cpu: 'AMD Ryzen 7 7840U w/ Radeon  780M Graphics',
      cores: [8, 16],
      mem: 32,
      serial: frameworkSerial,
      bios: (r) => ({ version: `03.0${r.int(2, 5)}`, date: biosDate(r), revision: `3.${r.int(2, 5)}` }),
    },
    12,
  ],
];

const FIRST = [
  'alice',
  'bob',
  'carol',
  'dan',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'nina',
  'oscar',
  'peggy',
  'quinn',
  'rupert',
  'sybil',
  'trent',
  'ursula',
  'victor',
  'wendy',
  'xavier',
  'yusuf',
  'zoe',
  'amir',
  'bea',
  'chen',
  'dara',
  'emeka',
  'fatima',
  'goran',
  'hana',
  'ines',
  'jonas',
  'kenji',
  'lena',
  'marta',
  'noor',
  'olu',
  'priya',
];
const LAST = [
  'smith',
  'jones',
  'garcia',
  'kim',
  'nguyen',
  'patel',
  'muller',
  'rossi',
  'silva',
  'tanaka',
  'cohen',
  'dubois',
  'novak',
  'ali',
  'okafor',
  'larsen',
  'ivanova',
  'hughes',
  'moreau',
  'schmidt',
];

function personOf(rng: Rng): { first: string; last: string } {
  return { first: rng.pick(FIRST), last: rng.pick(LAST) };
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Apple serials: the classic 12-character form (factory, year, week, unit, model code) or the 10-character randomised form (2021+). */
function appleSerial(rng: Rng, m: MacModel, index: number, seed: number): string {
  if (m.codes.length === 0 || rng.next() < 0.35)
    return rng.chars('CDFGHJKLMNPQRTVWXY', 1) + uniqueChars(NO_VOWELS, 9, index, seed + 6);
  const factory = rng.pick(['C02', 'C02', 'C02', 'C1M', 'FVF', 'D25', 'C07', 'G8W']);
  return factory + uniqueChars(ALNUM, 5, index, seed + 7) + rng.pick(m.codes);
}

export function platformOf(seed: number, index: number, mix: PlatformMix = DEFAULT_PLATFORM_MIX): SimPlatform {
  const rng = createRng(hashSeed(seed, index, 'platform'));
  return rng.weighted<SimPlatform>([
    ['darwin', mix.darwin],
    ['windows', mix.windows],
    ['linux', mix.linux],
  ]);
}

/** The full identity of host `index` in the fleet seeded by `seed`. Pure. */
export function hostIdentity(seed: number, index: number, mix: PlatformMix = DEFAULT_PLATFORM_MIX): HostIdentity {
  const platform = platformOf(seed, index, mix);
  const rng = createRng(hashSeed(seed, index, 'identity'));
  const uuid = uuidFrom(rng, true);
  const instanceId = uuidFrom(rng);
  const person = personOf(rng);
  const osqueryVersion = rng.weighted(OSQUERY_VERSIONS);
  const profileDraw = rng.next();
  const pid = rng.int(300, 65000);
  // A suffix from the index keeps host names unique across a large fleet.
  const suffix = index.toString(36).toUpperCase().padStart(4, '0');
  if (platform === 'darwin') {
    const m = rng.weighted(MAC_MODELS);
    const serial = appleSerial(rng, m, index, seed);
    const computerName = `${cap(person.first)}'s MacBook ${m.name.includes('Air') ? 'Air' : 'Pro'}`;
    const hostname = `${person.first}-${person.last}-${suffix.toLowerCase()}.local`;
    const silicon = m.arch === 'arm64';
    const iboot = silicon
      ? `iBoot-${rng.pick(['10151.121.1', '11881.41.5', '11881.61.3'])}`
      : `${rng.int(1700, 2100)}.${rng.int(0, 120)}.0.0.0`;
    return {
      index,
      platform,
      serial,
      uuid,
      instanceId,
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
      osqueryVersion,
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
      profileDraw,
      pid,
    };
  }
  const m = rng.weighted(
    platform === 'linux'
      ? [...PC_MODELS.filter(([p]) => p.vendor !== 'Microsoft Corporation'), ...LINUX_EXTRA]
      : PC_MODELS,
  );
  const serial = m.serial(rng, index, seed);
  const bios = m.bios(rng);
  const boardSerial =
    m.vendor === 'LENOVO'
      ? `L1HF${rng.chars(ALNUM, 7)}`
      : m.vendor === 'Dell Inc.'
        ? `/${serial}/CNCMK00${rng.chars('0123456789', 4)}/`
        : serial;
  const hostname =
    platform === 'windows'
      ? `${m.vendor === 'LENOVO' ? 'LT' : m.vendor === 'Dell Inc.' ? 'DL' : m.vendor === 'HP' ? 'HP' : 'SF'}-${serial.slice(-7).toUpperCase()}`
      : `${person.first}-${
          m.vendor === 'Framework'
            ? 'framework'
            : m.version
                .toLowerCase()
                .replace(/[^a-z0-9]+/g, '')
                .slice(0, 10) || 'laptop'
        }-${suffix.toLowerCase()}`;
  const uuidLower = platform === 'linux' ? uuid.toLowerCase() : uuid;
  return {
    index,
    platform,
    serial,
    uuid: uuidLower,
    instanceId,
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
    osqueryVersion,
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
    profileDraw,
    pid,
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
