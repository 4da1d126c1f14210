import { expect } from 'chai';
import { PAGE_CSS } from '../../server/people/assets.js';

/** The page's colour tokens for one scheme, read from the stylesheet itself. */
function tokens(scheme: 'light' | 'dark'): Record<string, string> {
  const css = PAGE_CSS.body;
  const light = /^:root\s*\{([^}]*)\}/m.exec(css)?.[1] ?? '';
  const dark = /prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
  const parse = (block: string) =>
    Object.fromEntries([...block.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1] ?? '', m[2] ?? '']));
  return scheme === 'light' ? parse(light) : { ...parse(light), ...parse(dark) };
}

function luminance(hex: string): number {
  const ch = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * (ch[0] ?? 0) + 0.7152 * (ch[1] ?? 0) + 0.0722 * (ch[2] ?? 0);
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return ((x ?? 0) + 0.05) / ((y ?? 0) + 0.05);
}

// [foreground, background, minimum]: text 4.5:1, focus rings and borders of status 3:1 (WCAG 1.4.3, 1.4.11).
const PAIRS: Array<[string, string, number]> = [
  ['text', 'bg', 4.5],
  ['text', 'card', 4.5],
  ['muted', 'bg', 4.5],
  ['muted', 'card', 4.5],
  ['accent', 'card', 4.5],
  ['accent', 'bg', 4.5],
  ['accent-text', 'accent', 4.5],
  ['ok', 'ok-bg', 4.5],
  ['fail', 'fail-bg', 4.5],
  ['stale', 'stale-bg', 4.5],
  ['err', 'err-bg', 4.5],
  ['unk', 'unk-bg', 4.5],
  ['ok', 'bg', 4.5],
  ['fail', 'card', 4.5],
  ['text', 'stale-bg', 4.5],
  ['focus', 'bg', 3],
  ['focus', 'card', 3],
  ['fail', 'bg', 3],
  ['stale', 'card', 3],
  ['err', 'card', 3],
  ['unk', 'card', 3],
  ['ok', 'card', 3],
];

describe('remediation page colours', () => {
  for (const scheme of ['light', 'dark'] as const) {
    const t = tokens(scheme);
    for (const [fg, bg, min] of PAIRS) {
      it(`keeps ${fg} on ${bg} at or above ${min}:1 in the ${scheme} scheme`, () => {
        const a = t[fg];
        const b = t[bg];
        expect(a, `--${fg}`).to.match(/^#/);
        expect(b, `--${bg}`).to.match(/^#/);
        expect(contrast(a ?? '', b ?? '')).to.be.at.least(min);
      });
    }
  }
});
