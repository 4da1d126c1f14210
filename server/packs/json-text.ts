/**
 * osquery config text handling: comment stripping exactly as osquery does it before parsing
 * (osquery/config/config.cpp `stripConfigComments()`), and JSON syntax errors (json-syntax.ts) located
 * as line:column in the original text.
 *
 * osquery first deletes every backslash-newline pair (joining continued lines), then splits on '\n',
 * trims each line and drops the lines that start with '#' or '//'. Comments at the end of a line are
 * not comments (and make the JSON invalid).
 */
import { findJsonSyntaxError } from './json-syntax.js';

export interface StrippedText {
  text: string;
  /** Offset in the original text of every character of `text` (plus one past the end). */
  origin: number[];
}

const isTrimSpace = (ch: string): boolean =>
  ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f';

export function stripConfigComments(original: string): StrippedText {
  // 1. Join backslash-newline continuations.
  const joined: string[] = [];
  const joinedOrigin: number[] = [];
  for (let i = 0; i < original.length; i++) {
    if (original[i] === '\\' && original[i + 1] === '\n') {
      i++;
      continue;
    }
    joined.push(original[i] ?? '');
    joinedOrigin.push(i);
  }
  // 2. Per line: trim, drop comment lines, re-join with '\n'.
  const out: string[] = [];
  const origin: number[] = [];
  let start = 0;
  for (;;) {
    let end = start;
    while (end < joined.length && joined[end] !== '\n') end++;
    let a = start;
    let b = end;
    while (a < b && isTrimSpace(joined[a] ?? '')) a++;
    while (b > a && isTrimSpace(joined[b - 1] ?? '')) b--;
    const first = joined[a];
    const isComment = b > a && (first === '#' || (first === '/' && b - a > 1 && joined[a + 1] === '/'));
    const isLast = end >= joined.length;
    if (!isComment && !(isLast && a === b)) {
      for (let k = a; k < b; k++) {
        out.push(joined[k] ?? '');
        origin.push(joinedOrigin[k] ?? original.length);
      }
      out.push('\n');
      origin.push(isLast ? original.length : (joinedOrigin[end] ?? original.length));
    }
    if (isLast) break;
    start = end + 1;
  }
  origin.push(original.length);
  return { text: out.join(''), origin };
}

/** 1-based line and column of an offset in `text`. */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const stop = Math.min(offset, text.length);
  for (let i = 0; i < stop; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: stop - lineStart + 1 };
}

export type ParsedConfigText =
  { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

/** Strips comments the osquery way, parses JSON, and on failure reports line:column in the original text. */
export function parseConfigText(original: string): ParsedConfigText {
  const stripped = stripConfigComments(original);
  try {
    return { ok: true, value: JSON.parse(stripped.text) as unknown };
  } catch (e) {
    const problem = findJsonSyntaxError(stripped.text);
    const offset = problem ? (stripped.origin[problem.offset] ?? original.length) : original.length;
    const { line, column } = lineColumnOf(original, offset);
    const message = problem?.message ?? (e instanceof Error ? e.message : 'invalid JSON');
    return { ok: false, line, column, message: `invalid JSON: ${message}` };
  }
}
