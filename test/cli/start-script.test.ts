/**
 * `npm start`'s launcher (server/cli/start.sh): the allocator choice and its errors, and that the server it
 * starts is the process itself (exec), so a signal reaches the server and its exit code is the command's.
 * That it finds an installed jemalloc is checked in the e2e first hour (CI installs libjemalloc2).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/server.js';
import { must } from '../support/must.js';

const SCRIPT = path.join(REPO_ROOT, 'server/cli/start.sh');

describe('npm start launcher (server/cli/start.sh)', function () {
  this.timeout(60_000);

  it('refuses an unknown allocator with the choices, before starting anything', () => {
    const r = spawnSync('sh', [SCRIPT], { env: { ...process.env, TRUSTGATE_MALLOC: 'tcmalloc' }, encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('TRUSTGATE_MALLOC="tcmalloc": use auto, jemalloc or system');
    expect(r.stdout).to.equal('');
  });

  it('TRUSTGATE_MALLOC=system: the server is the launched process, says its allocator, stops on SIGTERM', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-start-'));
    const child = spawn('sh', [SCRIPT, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info'], {
      env: {
        ...process.env,
        TRUSTGATE_MALLOC: 'system',
        TRUSTGATE_DATA_DIR: path.join(root, 'data'),
        TRUSTGATE_CERTS_DIR: path.join(root, 'certs'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    must(child.stdout, 'stdout').on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !out.includes('"event":"server.ready"'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const ready = JSON.parse(
        must(
          out.split('\n').find((l) => l.includes('"event":"server.ready"')),
          out,
        ),
      ) as {
        allocator: string;
      };
      expect(ready.allocator).to.equal('system');
      // the signal goes to the launched process: had the script not exec'd the server, the shell would die
      // of it (no exit code) and the server would not log its stop
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(out).to.contain('"event":"server.stopped"');
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
