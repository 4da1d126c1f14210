import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSimulate } from '../../server/sim/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Runs runSimulate with stdout/stderr captured. */
async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runSimulate(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('runSimulate (trustgate simulate)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let dir: string;

  before(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-sim-cli-'));
    fs.writeFileSync(path.join(dir, 'secret'), `${server.enrollSecret}\n`);
    fs.writeFileSync(path.join(dir, 'ca.pem'), server.caPem);
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints help and exits 0', async () => {
    const r = await capture(['--help']);
    expect(r.code).to.equal(0);
    expect(r.out).to.include('Usage: trustgate simulate --hosts N');
  });

  it('exits 2 on bad usage, naming the problem', async () => {
    expect((await capture([])).err).to.include('--hosts is required');
    expect((await capture(['--hosts', '3', '--profile', 'broken'])).code).to.equal(2);
    expect((await capture(['--hosts', '3', '--bogus', '1'])).err).to.include('unknown option --bogus');
    expect((await capture(['--hosts', '3', '--secret-file', path.join(dir, 'missing')])).err).to.include(
      'cannot read the enroll secret file',
    );
  });

  it('runs N agents against a server for --duration seconds and prints a JSON summary', async () => {
    const r = await capture([
      '--hosts',
      '5',
      '--server',
      server.url,
      '--secret-file',
      path.join(dir, 'secret'),
      '--ca-file',
      path.join(dir, 'ca.pem'),
      '--time-scale',
      '50',
      '--duration',
      '4',
      '--ramp',
      '0',
      '--json',
      '--profile',
      'compliant',
    ]);
    expect(r.code).to.equal(0);
    const summary = JSON.parse(r.out) as Record<string, unknown>;
    expect(summary['hosts']).to.equal(5);
    expect(summary['enrolled']).to.equal(5);
    expect(summary['failing']).to.equal(0);
    expect(Number(summary['result_lines_acked'])).to.be.greaterThan(0);
    expect(r.err).to.match(/enrolled 5\/5 · checked-in \d+ · failing 0/);
  });
});
