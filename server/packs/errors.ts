/** A problem found while loading a pack or policy file: which file, where in it, and what is wrong. */
export interface PackLoadError {
  file: string;
  /**
   * `line:column` for syntax errors, a JSON pointer (`/queries/foo/interval`) for schema errors, '' for the
   * whole file.
   */
  location: string;
  problem: string;
  /** `file:line:column: problem` or `file: /json/path: problem` (or `file: problem`). */
  message: string;
  line?: number;
  column?: number;
  /** JSON pointer inside the document, when the problem is in the structure. */
  path?: string;
}

export function syntaxError(file: string, line: number, column: number, problem: string): PackLoadError {
  return {
    file,
    location: `${line}:${column}`,
    problem,
    message: `${file}:${line}:${column}: ${problem}`,
    line,
    column,
  };
}

export function structureError(
  file: string,
  path: string,
  problem: string,
  at?: { line: number; column: number },
): PackLoadError {
  const shown = path === '' ? '/' : path;
  const where = at ? ` (line ${at.line}:${at.column})` : '';
  const err: PackLoadError = {
    file,
    location: shown,
    problem,
    message: `${file}: ${shown}${where}: ${problem}`,
    path: shown,
  };
  if (at) {
    err.line = at.line;
    err.column = at.column;
  }
  return err;
}

export function fileError(file: string, problem: string): PackLoadError {
  return { file, location: '', problem, message: `${file}: ${problem}` };
}

/** Escapes one JSON pointer segment (RFC 6901). */
export const pointerSegment = (key: string | number): string => String(key).replaceAll('~', '~0').replaceAll('/', '~1');

export const joinPointer = (base: string, ...keys: Array<string | number>): string =>
  base + keys.map((k) => `/${pointerSegment(k)}`).join('');
