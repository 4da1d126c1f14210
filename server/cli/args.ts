/** A small argv parser: positionals, `--flag value`, `--flag=value`, boolean `--flag`. */
export interface Args {
  positionals: string[];
  flags: Record<string, string>;
  bools: Set<string>;
}

export function parseArgs(argv: readonly string[], booleanFlags: ReadonlySet<string>): Args {
  const out: Args = { positionals: [], flags: {}, bools: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === undefined) break;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) out.flags[name] = a.slice(eq + 1);
      else if (booleanFlags.has(name)) out.bools.add(name);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) out.bools.add(name);
        else {
          out.flags[name] = v;
          i++;
        }
      }
    } else if (a === '-h') out.bools.add('help');
    else out.positionals.push(a);
  }
  return out;
}

/**
 * `text` cut to `room` characters: a list of words (`words`) keeps whole words and ends with "… +N" (the
 * words left out); prose (`chars`) ends with "…".
 */
export function fitCell(text: string, room: number, mode: 'words' | 'chars'): string {
  if (text.length <= room) return text;
  if (mode === 'chars') return `${text.slice(0, Math.max(0, room - 1)).trimEnd()}…`;
  const words = text.split(' ');
  for (let keep = words.length - 1; keep > 0; keep--) {
    const cut = `${words.slice(0, keep).join(' ')} … +${words.length - keep}`;
    if (cut.length <= room) return cut;
  }
  return `… +${words.length}`;
}

/** How the last column fits a terminal: total line width, and how to cut (default: no limit). */
export interface TableFit {
  width: number | undefined;
  mode: 'words' | 'chars';
}

/** Renders rows as an aligned text table; with `fit`, the last column is cut so lines fit the width. */
export function table(
  headers: string[],
  rows: Array<Array<string | number | null | undefined>>,
  fit?: TableFit,
): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const last = headers.length - 1;
  if (fit?.width !== undefined && last > 0) {
    const before = headers
      .slice(0, last)
      .map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)) + 2)
      .reduce((a, b) => a + b, 0);
    const room = Math.max(headers[last]?.length ?? 0, 16, fit.width - before);
    for (const r of cells) r[last] = fitCell(r[last] ?? '', room, fit.mode);
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
