/** The bench's one table: a row per figure, a column per fleet size, with target and pass/miss. */

export interface Target {
  /** e.g. "< 1 GiB". */
  label: string;
  test(v: number): boolean;
}

export interface BenchRow {
  name: string;
  /** Values per fleet size (null: not measured at this size), already formatted or numeric. */
  values: Map<number, number | string | null>;
  unit?: string;
  target?: Target;
  /** Only the largest fleet is judged against the target (targets are stated at 100k). */
  note?: string;
}

export const below = (limit: number, label: string): Target => ({ label, test: (v) => v < limit });
export const atLeast = (limit: number, label: string): Target => ({ label, test: (v) => v >= limit });
export const exactly = (value: number, label: string): Target => ({ label, test: (v) => v === value });

export function fmt(v: number | string | null | undefined, unit = ''): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  const s =
    abs >= 100_000
      ? Math.round(v).toLocaleString('en-US')
      : abs >= 100
        ? String(Math.round(v))
        : abs >= 10
          ? v.toFixed(1)
          : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

export function judge(row: BenchRow, sizes: readonly number[]): string {
  if (!row.target) return '';
  const largest = sizes[sizes.length - 1];
  const v = largest === undefined ? null : row.values.get(largest);
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'n/a';
  return row.target.test(v) ? 'pass' : 'MISS';
}

const sizeLabel = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k hosts` : `${n} hosts`);

export function renderTable(rows: readonly BenchRow[], sizes: readonly number[]): string {
  const headers = ['figure', ...sizes.map(sizeLabel), 'target', `at ${sizeLabel(sizes[sizes.length - 1] ?? 0)}`];
  const cells = rows.map((r) => [
    r.name + (r.unit ? ` (${r.unit})` : ''),
    ...sizes.map((n) => fmt(r.values.get(n) ?? null)),
    r.target?.label ?? '',
    judge(r, sizes),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string =>
    c
      .map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  * ${r.name}: ${r.note}`);
  return [
    line(headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
}
