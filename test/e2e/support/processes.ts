/**
 * Child processes for e2e tests: locate a required binary (failing loudly when it is missing), pick a
 * free 127.0.0.1 port, start a non-daemon service and wait until it accepts connections, stop it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** Absolute path of `cmd`, or an error telling how to install it (e2e never skips silently). */
export function requireCommand(cmd: string, debianPackage = cmd): string {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (!found) {
    throw new Error(
      `${cmd} is not installed, and the e2e tests need it: run .ci/run (as root), or ` +
        `\`apt-get update && apt-get install -y ${debianPackage}\`, then \`npm run test:e2e\` again.`,
    );
  }
  return found;
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export interface Service {
  name: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The port the service will listen on: ready = it accepts a TCP connection. */
  port: number;
  timeoutMs?: number;
}

/**
 * Starts `cmd` in the foreground and resolves once `port` accepts connections; rejects with its output if it
 * exits first.
 */
export async function startService(name: string, cmd: string, args: string[], opts: StartOptions): Promise<Service> {
  const proc = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  proc.stderr?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      resolve();
    }),
  );
  proc.once('error', (e) => {
    exited = `failed to start: ${e.message}`;
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (exited) throw new Error(`${name} ${exited} before listening on 127.0.0.1:${opts.port}:\n${out}`);
    if (await canConnect(opts.port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(
        `${name} did not listen on 127.0.0.1:${opts.port} within ${opts.timeoutMs ?? 15_000} ms:\n${out}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50)); // polling a child process coming up; not a timing assumption
  }

  return {
    name,
    port: opts.port,
    proc,
    output: () => out,
    async stop() {
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
