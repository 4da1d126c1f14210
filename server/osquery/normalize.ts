/**
 * Pure translation from osquery's many wire shapes to Trustgate's vocabulary.
 * Accepts: event format (columns + action added/removed), batched (diffResults), snapshot, snapshot as
 * events (columns + action snapshot); numbers as strings; "" for empty arrays; status logs old and new.
 */
import type { Platform, ResultUpdate, Row, StatusLog } from '../domain/types.js';
import type { EnrollRecord } from '../domain/ports.js';
import { AppError } from '../shared/errors.js';
import { nestedDeeperThan, tooDeepMessage } from '../shared/json-depth.js';
import { parse, resultLine, statusLine, type EnrollBody } from './schemas.js';

export const toInt = (v: unknown, fallback = 0): number => {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return Math.trunc(n);
  }
  return fallback;
};

/** Row values normalised to strings (numerics mode sends numbers; NULL-ish becomes ""). */
export function toRow(o: Record<string, unknown>): Row {
  const r: Row = {};
  for (const [k, v] of Object.entries(o))
    r[k] = v === null || v === undefined ? '' : typeof v === 'object' ? nestedText(k, v) : String(v);
  return r;
}

/** A nested column value as JSON text; one nested past MAX_JSON_DEPTH is refused (400), never a RangeError. */
function nestedText(column: string, v: object): string {
  if (nestedDeeperThan(v)) throw new AppError('invalid', `invalid result row: ${tooDeepMessage(`column "${column}"`)}`);
  return JSON.stringify(v);
}
const rows = (v: Array<Record<string, unknown>> | '' | undefined): Row[] => (Array.isArray(v) ? v.map(toRow) : []);

/**
 * Converts result lines to updates. Event-format lines of one run (same name, epoch, counter, unixTime)
 * are grouped into one update, keeping the order in which runs were sent.
 */
export function normalizeResults(data: readonly unknown[], queryKeyOf: (name: string) => string): ResultUpdate[] {
  const out: ResultUpdate[] = [];
  const groups = new Map<string, ResultUpdate>();
  data.forEach((item, i) => {
    const line = parse(resultLine, item, `result log line data[${i}]`);
    const base = {
      queryKey: queryKeyOf(line.name),
      unixTime: toInt(line.unixTime),
      epoch: toInt(line.epoch),
      counter: toInt(line.counter),
    };
    if (line.diffResults !== undefined) {
      out.push({ ...base, mode: 'diff', added: rows(line.diffResults.added), removed: rows(line.diffResults.removed) });
    } else if (line.snapshot !== undefined) {
      out.push({ ...base, mode: 'snapshot', added: rows(line.snapshot), removed: [] });
    } else if (line.columns) {
      const action = line.action ?? 'added';
      if (action !== 'added' && action !== 'removed' && action !== 'snapshot') {
        throw new AppError('invalid', `invalid result log line data[${i}]: unknown action "${action}"`);
      }
      const mode = action === 'snapshot' ? 'snapshot' : 'diff';
      const key = `${mode}\u0000${base.queryKey}\u0000${base.unixTime}\u0000${base.epoch}\u0000${base.counter}`;
      let g = groups.get(key);
      if (!g) {
        g = { ...base, mode, added: [], removed: [] };
        groups.set(key, g);
        out.push(g);
      }
      (action === 'removed' ? g.removed : g.added).push(toRow(line.columns));
    }
  });
  return out;
}

export function normalizeStatuses(data: readonly unknown[]): StatusLog[] {
  return data.map((item, i) => {
    const s = parse(statusLine, item, `status log line data[${i}]`);
    return {
      unixTime: toInt(s.unixTime),
      severity: toInt(s.severity),
      filename: s.filename ?? '',
      line: toInt(s.line),
      message: (s.message ?? '').slice(0, 8192),
      version: s.version ?? '',
    };
  });
}

/** Serials that vendors ship as placeholders: never a device identity. */
const PLACEHOLDER_SERIAL =
  /^(|0+|none|null|n\/a|na|default string|not specified|not applicable|system serial number|to be filled by o\.e\.m\.|chassis serial number|0123456789|123456789|serial)$/i;
const str = (v: unknown): string =>
  // eslint-disable-next-line no-control-regex -- deliberate: NUL characters are dropped from enroll facts
  typeof v === 'string' ? v.replace(/\u0000/g, '').trim() : typeof v === 'number' ? String(v) : '';

export function platformOf(osPlatform: string, buildPlatform: string, platformType: string): Platform {
  const p = `${osPlatform} ${buildPlatform}`.toLowerCase();
  if (p.includes('darwin') || p.includes('macos')) return 'darwin';
  if (p.includes('windows')) return 'windows';
  if (p.includes('freebsd')) return 'freebsd';
  if (
    /linux|ubuntu|debian|rhel|centos|fedora|amzn|arch|suse|gentoo|alpine|manjaro|rocky|alma|oracle|kali|pop|mint/.test(
      p,
    )
  )
    return 'linux';
  const mask = Number(platformType);
  if (Number.isInteger(mask) && mask > 0) {
    if (mask & 16) return 'darwin';
    if (mask & 2) return 'windows';
    if (mask & 32) return 'freebsd';
    if (mask & 8) return 'linux';
  }
  return 'unknown';
}

/** Facts for the host record from an enroll body. The device key is the hardware serial, else the UUID. */
export function enrollFacts(
  body: EnrollBody,
): Omit<EnrollRecord, 'nodeKeyHash' | 'enrollSecretName' | 'at' | 'state' | 'pendingReason' | 'cert'> {
  const d = body.host_details ?? {};
  const os = d.os_version ?? {};
  const oq = d.osquery_info ?? {};
  const si = d.system_info ?? {};
  const hardwareUuid = str(si.uuid) || str(oq.uuid) || str(body.host_identifier);
  const rawSerial = str(si.hardware_serial);
  const serial = PLACEHOLDER_SERIAL.test(rawSerial) ? hardwareUuid : rawSerial;
  const osPlatform = str(os.platform) || str(oq.build_platform);
  return {
    serial: serial.slice(0, 256),
    hardwareUuid: hardwareUuid.slice(0, 256),
    hostIdentifier: str(body.host_identifier).slice(0, 256),
    hostname: (str(si.hostname) || str(si.computer_name) || str(body.host_identifier)).slice(0, 256),
    platform: platformOf(osPlatform, str(oq.build_platform), str(body.platform_type)),
    osPlatform: osPlatform.toLowerCase(),
    osName: str(os.name),
    osVersion: str(os.version) || [str(os.major), str(os.minor), str(os.patch)].filter(Boolean).join('.'),
    osqueryVersion: str(oq.version),
    hardwareVendor: str(si.hardware_vendor),
    hardwareModel: str(si.hardware_model),
    details: sanitizeDetails(d),
  };
}

function sanitizeDetails(d: NonNullable<EnrollBody['host_details']>): EnrollRecord['details'] {
  const out: Record<string, Record<string, string>> = {};
  for (const t of ['os_version', 'osquery_info', 'system_info', 'platform_info'] as const) {
    const src = d[t];
    if (!src) continue;
    const row: Record<string, string> = {};
    for (const [k, v] of Object.entries(src)) row[k] = str(v).slice(0, 1024);
    out[t] = row;
  }
  return out;
}
