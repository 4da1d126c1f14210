/**
 * The shipped gateway examples (osquery-examples/gateway/) are templates; the e2e tests fill them the
 * way the README tells operators to, so the files people copy are the files the tests run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { must } from '../../support/must.js';
import { REPO_ROOT } from '../../support/server.js';

export const EXAMPLES_DIR = path.join(REPO_ROOT, 'osquery-examples', 'gateway');

export const exampleFile = (name: string): string => path.join(EXAMPLES_DIR, name);

/**
 * envsubst with an explicit variable list (`envsubst '${A} ${B}'`): replaces `${NAME}` for the given
 * names only, so nginx's own `$variables` are untouched. Throws if a `${UPPER_CASE}` placeholder is left.
 */
export function envsubst(text: string, vars: Record<string, string>): string {
  const out = text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (m, name: string) => (name in vars ? (vars[name] ?? '') : m));
  const body = out
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  const left = body.match(/\$\{[A-Z][A-Z0-9_]*\}/g);
  if (left) throw new Error(`template placeholders without a value: ${[...new Set(left)].join(', ')}`);
  return out;
}

/** Renders an example file into `dir` and returns the rendered file's path. */
export function renderExample(name: string, dir: string, vars: Record<string, string>, outName = name): string {
  const file = path.join(dir, outName);
  fs.writeFileSync(file, envsubst(fs.readFileSync(exampleFile(name), 'utf8'), vars), { mode: 0o644 });
  return file;
}

/** Caddy's `{$NAME}` placeholders (no default) in a Caddyfile, outside comments. */
export function caddyEnvNames(text: string): { required: string[]; optional: string[] } {
  const body = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  const required = new Set<string>();
  const optional = new Set<string>();
  for (const m of body.matchAll(/\{\$([A-Z][A-Z0-9_]*)(:[^}]*)?\}/g))
    (m[2] ? optional : required).add(must(m[1], 'the variable name'));
  return { required: [...required].sort(), optional: [...optional].sort() };
}
