/**
 * `trustgate simulate` with osqueryd's --tls_client_cert / --tls_client_key: each simulated host on its own
 * TLS identity, against a real server in certificate mode (certificates issued by its device CA for the
 * serials `--list-serials` prints); without them the same fleet cannot enroll.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deviceCaPaths, fileNameOf, openDeviceCa } from '../../server/devices/ca.js';
import { runSimulate } from '../../server/sim/cli.js';
import { must } from '../support/must.js';
import { startModeServer, type ModeServer } from '../devices/support.js';

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
    return { code: await runSimulate(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('trustgate simulate with client certificates (certificate mode)', function () {
  this.timeout(90_000);
  let ms: ModeServer;
  let dir: string;
  before(async () => {
    ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'certificate' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-sim-certs-'));
    fs.writeFileSync(path.join(dir, 'secret'), ms.ts.enrollSecret);
    fs.writeFileSync(path.join(dir, 'ca.pem'), ms.ts.caPem);
  });
  after(async () => {
    await ms.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[]) =>
    capture([
      ...['--hosts', '3', '--seed', '7', '--server', ms.ts.url, '--time-scale', '60', '--duration', '3'],
      ...['--secret-file', path.join(dir, 'secret'), '--ca-file', path.join(dir, 'ca.pem'), '--json', ...extra],
    ]);

  it('enrolls every host on its own certificate, and none without', async () => {
    const list = await capture(['--list-serials', '--hosts', '3', '--seed', '7']);
    const serials = list.out.trim().split('\n');
    expect(serials).to.have.length(3);
    const ca = must(
      await openDeviceCa(deviceCaPaths(ms.ts.certsDir, undefined), { create: false, now: Date.now() }),
      'ca',
    );
    for (const serial of serials) {
      const c = await ca.issue(serial, { days: 30, now: Date.now(), uriPrefix: 'urn:trustgate:device:' });
      fs.writeFileSync(path.join(dir, `${fileNameOf(serial)}.crt`), c.certPem);
      fs.writeFileSync(path.join(dir, `${fileNameOf(serial)}.key`), c.keyPem, { mode: 0o600 });
    }
    const withCerts = await run(['--device-certs', dir]);
    expect(withCerts.code, withCerts.err).to.equal(0);
    expect(JSON.parse(withCerts.out)).to.include({ hosts: 3, enrolled: 3 });
    const without = await run([]);
    expect(JSON.parse(without.out)).to.include({ enrolled: 0 });
    expect((await capture(['--hosts', '1', '--tls-client-cert', 'x'])).code).to.equal(2);
  });
});
