/**
 * Person-facing check messages: `{{column}}` is replaced by that column of the first result row.
 *
 * - Placeholder syntax: `{{name}}` with optional spaces inside the braces (`{{ version }}`); a name is
 *   letters, digits, `_`, `-` and `.`. Anything else between braces is left as written.
 * - A column missing from the row (or no row at all) becomes `unknown`, so the sentence still reads.
 * - Messages are Markdown (the remediation page renders them); values come from agents, so each is escaped
 *   as Markdown text (escapeMarkdown): a row can never add a link, emphasis, a list or a line break.
 *   HTML escaping is the job of the page that renders it.
 * - Each value is cut to MAX_VALUE_CHARS so a huge column cannot blow up a message.
 */
import type { Row } from '../domain/types.js';
import { escapeMarkdown } from '../shared/escape.js';

export const MISSING_VALUE = 'unknown';
export const MAX_VALUE_CHARS = 200;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export function interpolate(template: string, row: Row | undefined): string {
  if (!template.includes('{{')) return template;
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = row && Object.hasOwn(row, name) ? row[name] : undefined;
    if (v === undefined || v === null) return MISSING_VALUE;
    const s = String(v);
    return escapeMarkdown(s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s);
  });
}
