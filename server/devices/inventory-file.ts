/**
 * Inventory files as MDM and asset systems export them: CSV with a header row (columns matched by name,
 * common aliases accepted, other columns ignored) or JSON (an array of objects, or `{"devices": [...]}`).
 * Every row is validated before anything is stored; a bad row is reported with its line number (at most 20
 * problems listed), so a file is imported whole or not at all. Pure: text in, rows or an error out.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { InventoryRow } from '../domain/ports.js';
import { canonicalPerson } from '../domain/identity.js';
import { AppError } from '../shared/errors.js';

export type InventoryFormat = 'csv' | 'json';

/** Column (normalized: lower case, spaces and dashes as `_`) → field. */
const COLUMNS: Readonly<Record<string, keyof InventoryRow>> = {
  serial: 'serial',
  serial_number: 'serial',
  serialnumber: 'serial',
  hardware_serial: 'serial',
  hardware_uuid: 'hardwareUuid',
  uuid: 'hardwareUuid',
  udid: 'hardwareUuid',
  system_uuid: 'hardwareUuid',
  smbios_uuid: 'hardwareUuid',
  owners: 'owners',
  owner: 'owners',
  owner_email: 'owners',
  owner_emails: 'owners',
  email: 'owners',
  emails: 'owners',
  user_email: 'owners',
  asset_tag: 'assetTag',
  asset: 'assetTag',
  asset_number: 'assetTag',
};

const MAX_PROBLEMS = 20;
const MAX_TEXT = 256;
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A raw row: its line, and its fields as strings (absent: undefined). */
interface RawRow {
  line: number;
  serial?: string | undefined;
  hardwareUuid?: string | undefined;
  owners?: string | string[] | undefined;
  assetTag?: string | undefined;
}

const normalizeColumn = (c: string): string =>
  c
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

function text(v: string | undefined, what: string, problems: string[]): string | null {
  const t = (v ?? '').trim();
  if (t === '') return null;
  if (t.length > MAX_TEXT) problems.push(`${what} is longer than ${MAX_TEXT} characters`);
  else if (CONTROL.test(t)) problems.push(`${what} contains control characters`);
  return t;
}

function owners(v: string | string[] | undefined, problems: string[]): string[] {
  const list = (Array.isArray(v) ? v : (v ?? '').split(/[;,\s]+/)).map((o) => o.trim()).filter((o) => o !== '');
  const out: string[] = [];
  for (const o of list) {
    const person = canonicalPerson(o);
    // the one canonical person (domain/identity.ts), with a dotted domain as an inventory has
    if (person === null || !EMAIL.test(person)) problems.push(`owner "${o.slice(0, 80)}" is not an e-mail address`);
    else out.push(person);
  }
  if (out.length > 20) problems.push('more than 20 owners');
  return [...new Set(out)];
}

/** Validates every row; throws `invalid` listing the problems by line, or returns the rows. */
function validate(raw: readonly RawRow[], file: string): InventoryRow[] {
  const rows: InventoryRow[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  for (const r of raw) {
    const problems: string[] = [];
    const serial = text(r.serial, 'serial', problems);
    if (serial === null) problems.push('serial is empty');
    const hardwareUuid = text(r.hardwareUuid, 'hardware_uuid', problems);
    const assetTag = text(r.assetTag, 'asset_tag', problems);
    const o = owners(r.owners, problems);
    if (serial !== null) {
      const first = seen.get(serial);
      if (first !== undefined) problems.push(`serial "${serial}" is also on line ${first}`);
      else seen.set(serial, r.line);
    }
    if (problems.length) errors.push(`line ${r.line}: ${problems.join('; ')}`);
    else if (serial !== null) rows.push({ serial, hardwareUuid, owners: o, assetTag });
  }
  if (errors.length) {
    const more = errors.length > MAX_PROBLEMS ? ` (and ${errors.length - MAX_PROBLEMS} more)` : '';
    throw new AppError('invalid', `${file}: nothing imported: ${errors.slice(0, MAX_PROBLEMS).join(' | ')}${more}`, {
      problems: errors.slice(0, MAX_PROBLEMS),
      total: errors.length,
    });
  }
  return rows;
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

function csvRows(text: string, file: string): RawRow[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as CsvRecord[];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    const why = e instanceof Error ? e.message.replace(/^Invalid [^:]*: /, '') : String(e);
    throw new AppError('invalid', `${file}: nothing imported: ${line ? `line ${line}: ` : ''}${why}`);
  }
  const [header, ...body] = records;
  if (!header) throw new AppError('invalid', `${file}: nothing imported: the file is empty`);
  const fields = header.record.map((c) => COLUMNS[normalizeColumn(c)]);
  if (!fields.includes('serial')) {
    throw new AppError(
      'invalid',
      `${file}: nothing imported: line ${header.info.lines}: no serial column in the header ` +
        '(serial, serial_number, hardware_serial)',
    );
  }
  return body.map(({ record, info }) => {
    const row: RawRow = { line: info.lines };
    record.forEach((v, i) => {
      const f = fields[i];
      if (f && (row[f] === undefined || row[f] === '')) row[f] = v;
    });
    return row;
  });
}

/** The 1-based line of each top-level element of the JSON array that starts at `start`. */
function elementLines(text: string, start: number): number[] {
  const lines: number[] = [];
  let line = 1;
  for (let i = 0; i < start; i++) if (text.charCodeAt(i) === 10) line++;
  let depth = 0;
  let inString = false;
  let expect = true;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expect && c !== ']') {
      lines.push(line);
      expect = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expect = true;
    if (depth === 0) break;
  }
  return lines;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

function jsonRows(text: string, file: string): RawRow[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new AppError('invalid', `${file}: nothing imported: not JSON (${e instanceof Error ? e.message : e})`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list)) {
    throw new AppError('invalid', `${file}: nothing imported: expected an array of devices or {"devices": [...]}`);
  }
  const start = Array.isArray(doc) ? text.indexOf('[') : text.indexOf('[', text.indexOf('"devices"'));
  const lines = elementLines(text, start);
  return list.map((item: unknown, i) => {
    const line = lines[i] ?? i + 1;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { line, serial: '' };
    const o = item as Record<string, unknown>;
    const pick = (...keys: string[]): unknown => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);
    const ow = pick('owners', 'owner', 'email', 'owner_email');
    return {
      line,
      serial: str(pick('serial', 'serial_number', 'hardware_serial')),
      hardwareUuid: str(pick('hardware_uuid', 'uuid', 'udid')),
      owners: Array.isArray(ow) ? ow.map((x) => String(x)) : str(ow),
      assetTag: str(pick('asset_tag', 'asset')),
    };
  });
}

/** The format a file name or content suggests: `.json` or a body starting with `[`/`{` is JSON. */
export function formatOf(name: string, text: string): InventoryFormat {
  if (/\.json$/i.test(name)) return 'json';
  if (/\.csv$/i.test(name)) return 'csv';
  return /^\s*[[{]/.test(text) ? 'json' : 'csv';
}

/** The validated rows of an inventory file (`file` names it in messages). */
export function parseInventory(text: string, format: InventoryFormat, file: string): InventoryRow[] {
  return validate(format === 'json' ? jsonRows(text, file) : csvRows(text, file), file);
}
