/**
 * Escaping text we did not write for the two markups Trustgate emits: HTML (the pages) and Slack mrkdwn
 * (break-glass webhooks). One entity table; each markup escapes the characters that are syntax in it.
 */
const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const entity = (c: string): string => ENTITY[c] ?? c;

/** HTML text and double-quoted attribute values (every attribute Trustgate writes is double-quoted). */
export const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, entity);

/** Slack mrkdwn: only `&`, `<` and `>` are control characters; quotes must stay as typed. */
export const escapeMrkdwn = (s: string): string => s.replace(/[&<>]/g, entity);
