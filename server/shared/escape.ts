/**
 * Escaping text we did not write for the markups Trustgate emits: HTML (the pages), Slack mrkdwn
 * (break-glass webhooks) and the Markdown of check messages (values from result rows interpolated into
 * admin-written text). One entity table; each markup escapes the characters that are syntax in it.
 */
const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const entity = (c: string): string => ENTITY[c] ?? c;

/** HTML text and double-quoted attribute values (every attribute Trustgate writes is double-quoted). */
export const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, entity);

/** Slack mrkdwn: only `&`, `<` and `>` are control characters; quotes must stay as typed. */
export const escapeMrkdwn = (s: string): string => s.replace(/[&<>]/g, entity);

/**
 * Markdown syntax anywhere in a line: backslash, code, emphasis, link brackets (a link or image needs `[`:
 * parentheses alone are text and stay as written), HTML and autolinks, headings, strikes.
 */
const MD_INLINE = /[\\`*_[\]<>#~]/g;
/** A list marker at the start of the text (`-`, `+`, `*`, `1.`, `1)`): its punctuation is escaped. */
const MD_LIST_START = /^(\s*)(\d+)([.)])(?=\s|$)|^(\s*)([-+])(?=\s|$)/;
/** Line breaks and other control characters: a value never starts a new line, paragraph or list item. */
// eslint-disable-next-line no-control-regex -- deliberate: control characters are what is being removed
const MD_BREAKS = /[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g;

/**
 * Markdown text: a value that reads as itself, never as markup, wherever it is interpolated in a message.
 * CommonMark backslash escapes (which the pages' renderer honours); line breaks become one space.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(MD_BREAKS, ' ')
    .replace(MD_INLINE, '\\$&')
    .replace(MD_LIST_START, (_m, sp1?: string, num?: string, dot?: string, sp2?: string, dash?: string) =>
      num !== undefined ? `${sp1 ?? ''}${num}\\${dot ?? ''}` : `${sp2 ?? ''}\\${dash ?? ''}`,
    );
}
