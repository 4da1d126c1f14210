/**
 * What every CLI command shares on the command line: output (stdout, stderr), usage errors (exit 2),
 * positional arguments, the settings it runs with (TRUSTGATE_* or the matching --flags), who acts
 * (the CLI's user, as the audit log names it), and the terminal width tables fit.
 */
import os from 'node:os';
import { CONFIG_FLAGS, loadConfig, type Config } from '../config/load.js';
import type { Args } from './args.js';

export const out = (s: string) => process.stdout.write(`${s}\n`);
export const err = (s: string) => process.stderr.write(`${s}\n`);

/** A command used the wrong way: the dispatcher prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {}

/** The settings: the environment, overridden by the setting flags given. */
export function configOf(a: Args): Readonly<Config> {
  const flags: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.flags)) if (CONFIG_FLAGS.has(k)) flags[k] = v;
  return loadConfig(process.env, flags);
}

/** The i-th positional argument; a usage error naming `what` if it is missing. */
export function need(a: Args, i: number, what: string): string {
  const v = a.positionals[i];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

export const actor = () => `cli:${os.userInfo().username}`;

/** The width tables fit: the terminal's, else `COLUMNS` when set; undefined (no limit) for a pipe. */
export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}
