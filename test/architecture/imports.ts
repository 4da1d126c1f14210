/**
 * The boundaries checker: reads every import of a source tree laid out like server/ (one folder per
 * module, composition-root files at the top) with the TypeScript parser, and checks each against two
 * tables: which modules a module may import, and which modules may import an npm package. Every import
 * form counts: `import`, `import type`, side-effect `import '…'`, `export … from`, `export * from`,
 * `import('…')` (call and type), `import x = require('…')` and `require('…')`. Text in comments and
 * strings is not an import.
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

export type ImportKind = 'import' | 'side-effect' | 'export-from' | 'dynamic' | 'require';

export interface ImportRef {
  /** Path of the importing file, relative to the scanned root, with `/` separators. */
  file: string;
  line: number;
  kind: ImportKind;
  specifier: string;
}

export interface BoundaryRules {
  /** Module → the modules it may import (`*`: any). Files at the root are the module `main` (may import all). */
  modules: Readonly<Record<string, readonly string[]>>;
  /**
   * npm package → where it may be imported: module names, or file paths relative to the root. `node:`
   * built-ins may be imported anywhere; a package not in the table nowhere.
   */
  packages: Readonly<Record<string, readonly string[]>>;
}

export interface ScanResult {
  imports: ImportRef[];
  /** One line per violation: `file:line: kind 'specifier': why`. */
  violations: string[];
}

const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

function* sourceFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sourceFiles(p);
    else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

const stringArg = (args: ts.NodeArray<ts.Expression>): string | undefined => {
  const [first] = args;
  return first && ts.isStringLiteralLike(first) ? first.text : undefined;
};

function specifierOf(node: ts.Node): { kind: ImportKind; specifier: string } | undefined {
  if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
    return { kind: node.importClause ? 'import' : 'side-effect', specifier: node.moduleSpecifier.text };
  }
  if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
    return { kind: 'export-from', specifier: node.moduleSpecifier.text };
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const e = node.moduleReference.expression;
    return ts.isStringLiteral(e) ? { kind: 'require', specifier: e.text } : undefined;
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
    return { kind: 'dynamic', specifier: node.argument.literal.text };
  }
  if (ts.isCallExpression(node)) {
    const spec = stringArg(node.arguments);
    if (spec === undefined) return undefined;
    if (node.expression.kind === ts.SyntaxKind.ImportKeyword) return { kind: 'dynamic', specifier: spec };
    if (ts.isIdentifier(node.expression) && node.expression.text === 'require')
      return { kind: 'require', specifier: spec };
  }
  return undefined;
}

/** Every import of one source text. */
export function importsOfSource(file: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    const found = specifierOf(node);
    if (found) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      out.push({ file, line, ...found });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every import of every source file under `root`. */
export function importsUnder(root: string): ImportRef[] {
  const out: ImportRef[] = [];
  for (const abs of sourceFiles(root)) {
    const rel = path.relative(root, abs).split(path.sep).join('/');
    out.push(...importsOfSource(rel, fs.readFileSync(abs, 'utf8')));
  }
  return out;
}

/** The module a root-relative path belongs to: its first folder, or `main` for files at the root. */
export const moduleOf = (rel: string): string => (rel.includes('/') ? (rel.split('/')[0] ?? 'main') : 'main');

/** The npm package a bare specifier names (`drizzle-orm/sqlite-core` → `drizzle-orm`, `@koa/router`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

export const isRelative = (s: string): boolean => s === '.' || s === '..' || s.startsWith('./') || s.startsWith('../');

/** The root-relative path a relative import points at (starting with `../` when it leaves the root). */
export const targetOf = (ref: Pick<ImportRef, 'file' | 'specifier'>): string =>
  path.posix.normalize(path.posix.join(path.posix.dirname(ref.file), ref.specifier));

function checkRelative(ref: ImportRef, rules: BoundaryRules): string | undefined {
  const target = targetOf(ref);
  if (target.startsWith('../')) return 'leaves the source root (server/ imports nothing outside it)';
  const from = moduleOf(ref.file);
  const to = moduleOf(target);
  if (from === to || from === 'main') return undefined;
  const allowed = rules.modules[from];
  if (!allowed) return `module ${from} has no rule`;
  return allowed.includes('*') || allowed.includes(to) ? undefined : `${from} may not import ${to}`;
}

function checkPackage(ref: ImportRef, rules: BoundaryRules): string | undefined {
  if (ref.specifier.startsWith('node:')) return undefined;
  const pkg = packageOf(ref.specifier);
  if (builtinModules.includes(pkg)) return `a Node built-in: import it as node:${pkg}`;
  const where = rules.packages[pkg];
  if (!where) return `package ${pkg} is in no rule`;
  const from = moduleOf(ref.file);
  return where.includes(from) || where.includes(ref.file) ? undefined : `${from} may not import package ${pkg}`;
}

/** Why one import breaks the rules, or undefined when it follows them. */
export const checkImport = (ref: ImportRef, rules: BoundaryRules): string | undefined =>
  isRelative(ref.specifier) ? checkRelative(ref, rules) : checkPackage(ref, rules);

/** Scans `root` and checks every import against `rules`. */
export function checkBoundaries(root: string, rules: BoundaryRules): ScanResult {
  const imports = importsUnder(root);
  const violations: string[] = [];
  for (const ref of imports) {
    const why = checkImport(ref, rules);
    if (why) violations.push(`${ref.file}:${ref.line}: ${ref.kind} '${ref.specifier}': ${why}`);
  }
  return { imports, violations };
}
