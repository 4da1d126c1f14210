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

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
