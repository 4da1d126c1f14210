/**
 * What host identities are drawn from: Mac and PC models with their weights, each vendor's serial
 * number format (made unique per host by `uniqueChars`), BIOS versions, and people's names for
 * hostnames. identity.ts does the drawing.
 */
import type { Rng } from './rng.js';

export const NO_VOWELS = '0123456789BCDFGHJKLMNPQRSTVWXYZ';
export const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export interface MacModel {
  model: string;
  name: string;
  cpu: string;
  arch: 'arm64' | 'x86_64';
  cores: [number, number];
  mem: number;
  codes: string[];
}
export const MAC_MODELS: ReadonlyArray<readonly [MacModel, number]> = [
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

export interface PcModel {
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

export const PC_MODELS: ReadonlyArray<readonly [PcModel, number]> = [
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
export const LINUX_EXTRA: ReadonlyArray<readonly [PcModel, number]> = [
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

export const FIRST = [
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
export const LAST = [
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

/**
 * Apple serials: the classic 12-character form (factory, year, week, unit, model code) or the
 * 10-character randomised form (2021+).
 */
export function appleSerial(rng: Rng, m: MacModel, index: number, seed: number): string {
  if (m.codes.length === 0 || rng.next() < 0.35)
    return rng.chars('CDFGHJKLMNPQRTVWXY', 1) + uniqueChars(NO_VOWELS, 9, index, seed + 6);
  const factory = rng.pick(['C02', 'C02', 'C02', 'C1M', 'FVF', 'D25', 'C07', 'G8W']);
  return factory + uniqueChars(ALNUM, 5, index, seed + 7) + rng.pick(m.codes);
}
