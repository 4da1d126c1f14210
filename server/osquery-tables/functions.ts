/**
 * The SQL functions osquery adds to SQLite (osquery/sql/sqlite_*.cpp), re-implemented as deterministic
 * JS user functions so that validation and the simulator accept the same queries a real agent does.
 * Behaviour follows osquery's, including its quirks (noted inline). Functions that reach the file
 * system, the network or the carver are deliberately absent.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Platform } from '../domain/types.js';

type SqlValue = string | number | bigint | Buffer | null;

/** osquery's regex_max_size flag default: longer patterns are refused. */
const REGEX_MAX_SIZE = 256;

/** SQLite's text conversion of a value (sqlite3_value_text). */
function textOf(v: SqlValue): string | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/** sqlite3_value_int: integers pass, text is parsed leniently, anything else is 0. */
function intOf(v: SqlValue): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const n = Number.parseInt(v.trim(), 10);
    return Number.isNaN(n) ? 0 : n;
  }
  return 0;
}

/** osquery::split(): split on any of the token characters, drop empty pieces, then trim each piece. */
export function osquerySplit(input: string, tokens: string): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const ch of input) {
    if (tokens.includes(ch)) {
      pieces.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  pieces.push(current);
  return pieces.filter((p) => p.length > 0).map((p) => p.trim());
}

function compileRegex(pattern: string, cache: Map<string, RegExp>, flags: string): RegExp {
  if (Buffer.byteLength(pattern) > REGEX_MAX_SIZE) {
    throw new Error(`Invalid regex: too big, max size is ${REGEX_MAX_SIZE} bytes`);
  }
  const key = `${flags}/${pattern}`;
  let re = cache.get(key);
  if (!re) {
    try {
      re = new RegExp(pattern, flags);
    } catch {
      throw new Error('Invalid regex');
    }
    cache.set(key, re);
  }
  return re;
}

/** The pieces between regex matches (std::sregex_token_iterator with -1): a trailing empty piece is not yielded. */
function regexSplit(input: string, re: RegExp): string[] {
  const out: string[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of input.matchAll(re)) {
    if (m[0].length === 0) continue;
    out.push(input.slice(last, m.index));
    last = m.index + m[0].length;
  }
  if (last < input.length) out.push(input.slice(last));
  return out;
}

/**
 * osquery's concat/concat_ws: NULLs are skipped, and (quirk) the separator follows every non-NULL argument
 * but the last.
 */
function concatValues(sep: string, args: SqlValue[]): string | null {
  if (args.length === 0) return null;
  let out = '';
  args.forEach((v, i) => {
    const t = textOf(v);
    if (t === null) return;
    out += t;
    if (sep !== '' && i + 1 < args.length) out += sep;
  });
  return out;
}

/** inet_pton(AF_INET) strictness: four decimal octets, no leading '+', no empty parts. */
function parseIpv4(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

function parseIpv6(address: string): bigint | null {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const v4 = parseIpv4(maybeV4);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === null || rest === null) return null;
  const total = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) return null;
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) return null;
    groups = head;
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/**
 * in_cidr_block(cidr, ip): boost::asio network hosts() membership. For IPv4 the network and broadcast
 * addresses are not hosts unless the prefix is /31 or /32.
 */
function inCidrBlock(cidr: SqlValue, ip: SqlValue): number {
  if (typeof cidr !== 'string') throw new Error('CIDR must be a string');
  if (typeof ip !== 'string') throw new Error('IP address must be a string');
  const v4 = parseIpv4(ip);
  const v6 = v4 === null ? parseIpv6(ip) : null;
  if (v4 === null && v6 === null) throw new Error('IP address cannot be parsed');
  const slash = cidr.indexOf('/');
  const netText = slash >= 0 ? cidr.slice(0, slash) : '';
  const lenText = slash >= 0 ? cidr.slice(slash + 1) : '';
  const prefix = /^[0-9]{1,3}$/.test(lenText) ? Number(lenText) : -1;
  if (v4 !== null) {
    const net = parseIpv4(netText);
    if (net === null || prefix < 0 || prefix > 32) throw new Error('CIDR for IP address v4 cannot be parsed');
    const size = 2 ** (32 - prefix);
    const base = Math.floor(net / size) * size;
    const [first, last] = prefix >= 31 ? [base, base + size - 1] : [base + 1, base + size - 2];
    return v4 >= first && v4 <= last ? 1 : 0;
  }
  const net = parseIpv6(netText);
  if (net === null || prefix < 0 || prefix > 128 || v6 === null)
    throw new Error('CIDR for IP address v6 cannot be parsed');
  const hostBits = BigInt(128 - prefix);
  return v6 >> hostBits === net >> hostBits ? 1 : 0;
}

const DELIMITERS = '~-^.:';
const DELIM_PRECEDENCE: Record<string, number> = { '~': 1, '-': 2, '^': 3, '.': 4, ':': 5 };

export type VersionCollation = 'version' | 'version_arch' | 'version_dpkg' | 'version_rhel';

/**
 * osquery's version collations (sqlite_collation.cpp): segments are compared character by character up
 * to the next delimiter (`~-^.:`); arch/dpkg/rhel also honour epochs; arch/rhel treat a remaining `~`
 * as older and `^` as newer; rhel ranks delimiters. Returns <0, 0 or >0.
 */
export function compareVersions(left: string, right: string, collation: VersionCollation = 'version'): number {
  const epoch = collation !== 'version';
  const precedence = collation === 'version_rhel';
  const remaining = collation === 'version_arch' || collation === 'version_rhel';
  if (epoch) {
    const le = left.indexOf(':');
    const re = right.indexOf(':');
    if (le >= 0 && re >= 0 && le !== re) return le - re;
    if (le >= 0 && re < 0) return 1;
    if (le < 0 && re >= 0) return -1;
  }
  let firstDiff = 0;
  const min = Math.min(left.length, right.length);
  for (let i = 0; i < min; i++) {
    const l = left.charCodeAt(i);
    const r = right.charCodeAt(i);
    const ld = DELIMITERS.includes(left[i] ?? '');
    const rd = DELIMITERS.includes(right[i] ?? '');
    if (!ld && !rd) {
      if (firstDiff === 0) firstDiff = l - r;
      continue;
    }
    if (ld && !rd) return -1;
    if (!ld && rd) return 1;
    if (firstDiff !== 0) return firstDiff;
    if (precedence) {
      const d = (DELIM_PRECEDENCE[left[i] ?? ''] ?? 0) - (DELIM_PRECEDENCE[right[i] ?? ''] ?? 0);
      if (d !== 0) return d;
    }
  }
  if (firstDiff !== 0) return firstDiff;
  if (remaining) {
    const tailOrder: Record<string, number> = { '~': 1, '-': 0, '^': -1 };
    if (left.length === min && right.length > min) {
      const o = tailOrder[right[min] ?? ''];
      if (o !== undefined) return o;
    }
    if (right.length === min && left.length > min) {
      const o = tailOrder[left[min] ?? ''];
      if (o !== undefined) return -o;
    }
  }
  return left.length - right.length;
}

const isPrintable = (s: string): boolean => Buffer.from(s, 'utf8').every((b) => b > 0x1f && b < 0x7f);

const hashFn =
  (algo: 'md5' | 'sha1' | 'sha256') =>
  (v: SqlValue): string | null => {
    if (v === null) return null;
    return createHash(algo)
      .update(Buffer.isBuffer(v) ? v : String(v))
      .digest('hex');
  };

/** Names of the osquery SQL functions registered by `registerOsqueryFunctions`. */
export const OSQUERY_FUNCTIONS = [
  'split',
  'regex_split',
  'regex_match',
  'inet_aton',
  'concat',
  'concat_ws',
  'md5',
  'sha1',
  'sha256',
  'to_base64',
  'from_base64',
  'conditional_to_base64',
  'in_cidr_block',
  'parent_directory',
  'version_compare',
  'sleep',
] as const;

/**
 * Registers osquery's extra SQL functions on `db`. SQLite's own math functions (sqrt, log10, power, …)
 * are built into the SQLite that better-sqlite3 ships. `sleep()` returns its argument without sleeping
 * (the simulator must stay fast and deterministic).
 */
export function registerOsqueryFunctions(db: Database.Database, platform: Platform): void {
  const regexCache = new Map<string, RegExp>();
  const det = { deterministic: true } as const;

  const splitWith =
    (splitter: (input: string, token: string) => string[]) =>
    (input: SqlValue, token: SqlValue, index: SqlValue): string | null => {
      if (input === null || token === null || index === null) return null;
      const tok = textOf(token) ?? '';
      if (tok === '') throw new Error('Invalid input to split function');
      const pieces = splitter(textOf(input) ?? '', tok);
      const i = intOf(index);
      return i >= 0 && i < pieces.length ? (pieces[i] ?? null) : null;
    };
  db.function('split', det, splitWith(osquerySplit));
  db.function(
    'regex_split',
    det,
    splitWith((input, tok) => regexSplit(input, compileRegex(tok, regexCache, 'g'))),
  );

  db.function('regex_match', det, (input: SqlValue, pattern: SqlValue, index: SqlValue): string | null => {
    if (input === null || pattern === null || index === null) return null;
    const re = compileRegex(textOf(pattern) ?? '', regexCache, '');
    const m = re.exec(textOf(input) ?? '');
    if (!m) return null;
    const i = intOf(index);
    if (i < 0 || i >= m.length) return null;
    return m[i] ?? '';
  });

  db.function('inet_aton', det, (v: SqlValue): number | null => {
    const t = textOf(v);
    if (t === null || t.includes(':')) return null;
    return parseIpv4(t);
  });

  db.function('concat', { deterministic: true, varargs: true }, (...args: SqlValue[]) => concatValues('', args));
  db.function('concat_ws', { deterministic: true, varargs: true }, (...args: SqlValue[]) => {
    if (args.length === 0) throw new Error('Missing separator to concat_ws');
    const [sep, ...rest] = args;
    return concatValues(textOf(sep ?? null) ?? '', rest);
  });

  db.function('md5', det, hashFn('md5'));
  db.function('sha1', det, hashFn('sha1'));
  db.function('sha256', det, hashFn('sha256'));

  db.function('to_base64', det, (v: SqlValue) => (v === null ? null : Buffer.from(textOf(v) ?? '').toString('base64')));
  db.function('from_base64', det, (v: SqlValue) =>
    v === null ? null : Buffer.from(textOf(v) ?? '', 'base64').toString('utf8'),
  );
  db.function('conditional_to_base64', det, (v: SqlValue) => {
    const t = textOf(v);
    if (t === null) return null;
    return isPrintable(t) ? t : Buffer.from(t).toString('base64');
  });

  db.function('in_cidr_block', det, inCidrBlock);

  const separator = platform === 'windows' ? '\\' : '/';
  db.function('parent_directory', det, (v: SqlValue): string | null => {
    if (typeof v !== 'string') throw new Error('Invalid inputs to parent_directory, TEXT was expected');
    const at = v.lastIndexOf(separator);
    return at < 0 ? null : v.slice(0, at);
  });

  const collations: readonly string[] = ['version', 'version_arch', 'version_dpkg', 'version_rhel'];
  db.function('version_compare', { deterministic: true, varargs: true }, (...args: SqlValue[]): number | null => {
    if (args.length < 2 || args.length > 3) throw new Error('version_compare expects 2 or 3 arguments');
    const [a, b, c] = args;
    const left = textOf(a ?? null);
    const right = textOf(b ?? null);
    if (left === null || right === null) return null;
    const name = c === undefined || c === null ? 'version' : (textOf(c) ?? '').toLowerCase();
    if (!collations.includes(name)) throw new Error(`version_compare: unknown collation ${name}`);
    return Math.sign(compareVersions(left, right, name as VersionCollation));
  });

  db.function('sleep', det, (v: SqlValue): number => {
    const n = intOf(v);
    return n < 0 ? 0 : n;
  });
}
