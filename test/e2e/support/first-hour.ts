/**
 * What the first-hour walk-through needs to act as a new user: a fresh checkout (the working tree's
 * tracked files, no data or certificates; dependencies linked, as `npm install` would leave them), the
 * commands the README prints (its code blocks, comments stripped) and the ones the first-start banner
 * prints, run through a shell as typed, in the foreground or as a process group stopped like Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../support/server.js';

/**
 * A fresh checkout of the working tree's tracked files in a directory named after this repository (the
 * same every run: `npx trustgate` links the local package into npm's cache by its path). Removed first.
 */
export function freshCheckout(): string {
  const id = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 8);
  const dir = path.join(os.tmpdir(), `trustgate-first-hour-${id}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const files = spawnSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.split('\0');
  for (const f of files.filter((x) => x !== '')) {
    const from = path.join(REPO_ROOT, f);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, f));
  }
  fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

/** The environment without any TRUSTGATE_* setting (a new user's shell), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { npm_config_yes: 'true', npm_config_update_notifier: 'false' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TRUSTGATE_') && k !== 'COLUMNS') env[k] = v;
  return { ...env, ...extra };
}

/** The shell commands of the README's ```sh blocks between `from` and the next heading of its level. */
export function readmeCommands(readme: string, from: string): string[] {
  const start = readme.indexOf(`\n${from}\n`);
  if (start < 0) throw new Error(`the README has no "${from}"`);
  const level = /^#+/.exec(from)?.[0] ?? '##';
  const rest = readme.slice(start + from.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  const out: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? '').split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd && !cmd.startsWith('#')) out.push(cmd);
    }
  }
  return out;
}

/** The first-start banner's commands: the `export` line (if any) and the numbered steps' commands. */
export function bannerCommands(banner: string): { exportLine: string | undefined; steps: string[] } {
  const lines = banner.split('\n');
  const next = lines.findIndex((l) => l.includes('Next steps'));
  if (next < 0) throw new Error(`no next steps in the banner:\n${banner}`);
  const commands = lines
    .slice(next + 1)
    .filter((l) => l.startsWith('│   '))
    .map((l) => l.slice('│   '.length).trim());
  const exportLine = commands[0]?.startsWith('export ') ? commands[0] : undefined;
  return { exportLine, steps: exportLine ? commands.slice(1) : commands };
}

export interface ShellResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `cmd` through bash as typed; resolves when it exits. */
export function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ShellResult> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', cmd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    p.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** A command left running (as in another terminal), in its own process group. */
export interface Running {
  proc: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves once `pattern` shows up in stdout or stderr; rejects if the command exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to the whole group (what Ctrl-C or a service manager does); resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function background(cmd: string, cwd: string, env: NodeJS.ProcessEnv): Running {
  const proc = spawn('bash', ['-c', cmd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  proc.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  // 'close': every process of the group that held its output has finished writing (npm exits first)
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    proc,
    out: () => out,
    err: () => err,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out) && !pattern.test(err)) {
        if (proc.exitCode !== null) throw new Error(`"${cmd}" exited (${proc.exitCode}):\n${out}\n${err}`);
        if (Date.now() > deadline)
          throw new Error(`"${cmd}": no ${String(pattern)} in ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100)); // polling a child's output, not a timing assumption
      }
    },
    async stop(signal = 'SIGINT') {
      if (proc.exitCode === null && proc.pid !== undefined) {
        try {
          process.kill(-proc.pid, signal);
        } catch {
          /* already gone */
        }
      }
      const timer = setTimeout(() => {
        try {
          if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }, 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
