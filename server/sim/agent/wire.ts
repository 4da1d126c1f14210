/**
 * osquery's wire formats, as a simulated agent writes and reads them: the platform_type it enrolls
 * with, calendarTime, result and status log lines (by osquery version), and what osquery's
 * TLSRequestHelper makes of a response body. Pure.
 */
import { versionAtLeast, type SimPlatform } from '../identity.js';
import type { PostResult } from '../transport.js';
import type { Agent, LogItem, StatusItem } from './state.js';

export const PLATFORM_TYPE: Record<SimPlatform, string> = { darwin: '21', windows: '2', linux: '9' };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** osquery's calendarTime: asctime() in UTC plus " UTC", e.g. "Fri Jul  2 04:33:36 2021 UTC". */
export function calendarTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const day = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}`;
  const time = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `${day} ${time} ${d.getUTCFullYear()} UTC`;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What osquery's TLSRequestHelper makes of a response body. */
export function judge(r: PostResult): 'ok' | 'node_invalid' | 'error' {
  if (!r.ok) return 'error';
  if (!isRecord(r.json)) return 'error';
  if (r.json['node_invalid'] === true) return 'node_invalid';
  if ('error' in r.json) return 'error';
  return 'ok';
}

/** A result log line: a snapshot, a diffResults batch, or one added/removed event. */
export function serializeResult(a: Agent, it: LogItem): Record<string, unknown> {
  const common = {
    name: it.q.logName,
    hostIdentifier: a.hostIdentifier,
    calendarTime: calendarTime(it.unixTime),
    unixTime: it.unixTime,
    epoch: it.epoch,
    counter: it.counter,
    numerics: false,
  };
  if (it.action === 'snapshot' && it.rows) return { snapshot: it.rows, action: 'snapshot', ...common };
  if (it.action === 'batch') return { diffResults: { added: it.rows ?? [], removed: it.removedRows ?? [] }, ...common };
  return { ...common, columns: it.row ?? {}, action: it.action };
}

/** A status log line: numbers from osquery 5.10, strings before. */
export function serializeStatus(a: Agent, s: StatusItem): Record<string, unknown> {
  const numeric = versionAtLeast(a.osqueryVersion, '5.10.0');
  return {
    hostIdentifier: a.hostIdentifier,
    calendarTime: calendarTime(s.unixTime),
    unixTime: numeric ? s.unixTime : String(s.unixTime),
    severity: numeric ? s.severity : String(s.severity),
    filename: s.filename,
    line: numeric ? s.line : String(s.line),
    message: s.message,
    version: a.osqueryVersion,
  };
}
