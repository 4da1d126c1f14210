/**
 * Tiny HTML helpers: escaping tagged templates, a safe Markdown subset for admin-written messages, times.
 * Long markup in an `html` template wraps with a line continuation (a `\` at the end of the line, the
 * rest at the start of the next): it adds nothing to the page, so wrapping never changes the output.
 */
import { escapeHtml } from '../shared/escape.js';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const raw = (s: string): SafeHtml => new SafeHtml(s);

type Part = SafeHtml | string | number | null | undefined | false | readonly Part[];

function render(p: Part): string {
  if (p === null || p === undefined || p === false) return '';
  if (p instanceof SafeHtml) return p.value;
  if (Array.isArray(p)) return (p as readonly Part[]).map(render).join('');
  return escapeHtml(String(p));
}

/** Tagged template: every interpolation is escaped unless it is SafeHtml (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Only http(s) URLs are ever linked. */
export function safeUrl(u: string | null | undefined): string | null {
  if (!u) return null;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null;
  } catch {
    return null;
  }
}

export function hostOf(u: string): string {
  try {
    return new URL(u).hostname.replace(/^www\./, '');
  } catch {
    return u;
  }
}

function inline(escaped: string): string {
  return escaped
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, text: string, href: string) => {
      const url = safeUrl(href.replace(/&amp;/g, '&'));
      return url ? `<a href="${escapeHtml(url)}" rel="noreferrer noopener">${text}</a>` : text;
    });
}

/**
 * A Markdown subset for messages written by admins: paragraphs, numbered and bulleted lists, **bold**,
 * `code` and [links](https://…). Everything is escaped first; only http(s) links survive. A backslash before
 * ASCII punctuation makes it literal (CommonMark): how values from result rows stay text (escapeMarkdown).
 */
export function markdown(src: string): SafeHtml {
  return raw(restoreEscapes(renderMarkdown(protectEscapes(src))));
}

/** Private-use code points that stand for a backslash-escaped character while the markup is parsed. */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PROTECTED = /\uE000(\d+)\uE001/g;

/** `\*` and the like (CommonMark: a backslash before ASCII punctuation) become placeholders no rule matches. */
function protectEscapes(src: string): string {
  return src
    .replace(/[\uE000\uE001]/g, '')
    .replace(/\\([!-/:-@[-`{-~])/g, (_m, c: string) => `${OPEN}${c.charCodeAt(0)}${CLOSE}`);
}

/** Each placeholder back to its character, as HTML text. */
const restoreEscapes = (out: string): string =>
  out.replace(PROTECTED, (_m, code: string) => escapeHtml(String.fromCharCode(Number(code))));

function renderMarkdown(src: string): string {
  const lines = escapeHtml(src.replace(/\r\n?/g, '\n')).split('\n');
  const out: string[] = [];
  let list: 'ol' | 'ul' | null = null;
  let para: string[] = [];
  const flushPara = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  const closeList = () => {
    if (list) out.push(`</${list}>`);
    list = null;
  };
  for (const line of lines) {
    const t = line.trim();
    const ol = /^\d+[.)]\s+(.*)$/.exec(t);
    const ul = /^[-*]\s+(.*)$/.exec(t);
    if (ol || ul) {
      flushPara();
      const kind = ol ? 'ol' : 'ul';
      if (list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      out.push(`<li>${inline((ol ?? ul)?.[1] ?? '')}</li>`);
    } else if (t === '') {
      flushPara();
      closeList();
    } else {
      closeList();
      para.push(t);
    }
  }
  flushPara();
  closeList();
  return out.join('');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** "14:02 UTC" */
export const clockTime = (ms: number): string => {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
};

/** "25 Nov" (with the year when it differs from `now`'s). */
export const dayDate = (ms: number, now: number): string => {
  const d = new Date(ms);
  const y = d.getUTCFullYear() !== new Date(now).getUTCFullYear() ? ` ${d.getUTCFullYear()}` : '';
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''}${y}`;
};

/** "14:02 UTC" today, else "25 Nov, 14:02 UTC". */
export const whenAbsolute = (ms: number, now: number): string =>
  new Date(ms).toISOString().slice(0, 10) === new Date(now).toISOString().slice(0, 10)
    ? clockTime(ms)
    : `${dayDate(ms, now)}, ${clockTime(ms)}`;

export function relative(ms: number, now: number): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) {
    const f = -s;
    if (f < 90) return `in ${f} s`;
    if (f < 5400) return `in ${Math.round(f / 60)} min`;
    if (f < 172_800) return `in ${Math.round(f / 3600)} h`;
    return `in ${Math.round(f / 86_400)} days`;
  }
  if (s < 10) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** "3 min ago (14:02 UTC)" */
export const relAbs = (ms: number, now: number): string => `${relative(ms, now)} (${whenAbsolute(ms, now)})`;

export function humanDuration(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 60) return `${min} minute${min === 1 ? '' : 's'}`;
  const h = Math.floor(min / 60);
  if (h >= 48) return `${Math.round(min / 1440)} days`;
  if (min % 60 === 0) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${h} h ${min % 60} min`;
}

export const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
