/**
 * `trustgate device-cert …`: device certificates from Trustgate's own device CA. `issue` writes, per device,
 * `<serial>.crt` and `<serial>.key` (0600: osquery's --tls_client_cert / --tls_client_key) and `<serial>.p12`
 * (PKCS#12 for the macOS keychain or the Windows certificate store, with a random password printed once, or
 * the one in --p12-password-file); `--serials-file` issues many (PEM only unless a password file is given).
 * `revoke` by device serial or SHA-256 fingerprint (the running server refuses it within 2 s), `list`, and
 * `crl` (PEM, for gateways: nginx `ssl_crl`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { fileNameOf } from '../devices/ca.js';
import { normalizeFingerprint } from '../devices/certs.js';
import { isoOf } from '../shared/clock.js';
import { invalid } from '../shared/errors.js';
import { table, type Args } from './args.js';
import { actor, need, out, UsageError } from './command.js';
import { openDeviceAdmin, type DeviceAdmin } from './device-admin.js';

export const DEVICE_CERT_HELP = `  device-cert issue --serial S [--out DIR] [--days N] [--p12-password-file F]
  device-cert issue --serials-file F [--out DIR] [--no-p12]   issue device certificates (device CA)
  device-cert revoke --serial S | --fingerprint SHA256 [--reason R]
  device-cert list [--serial S]       certificates issued and revoked
  device-cert crl [--out F]           the device CA's CRL (PEM) for gateways (nginx ssl_crl)`;

const readText = (file: string, what: string): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
};

function writeFile(file: string, content: string | Buffer, secret: boolean): void {
  fs.writeFileSync(file, content, { mode: secret ? 0o600 : 0o644 });
  if (secret) fs.chmodSync(file, 0o600);
}

async function issueCmd(a: Args, cfg: Readonly<Config>, admin: DeviceAdmin): Promise<number> {
  const many = a.flags['serials-file'];
  const serials = many
    ? readText(many, 'serials file')
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter((s) => s !== '' && !s.startsWith('#'))
    : [a.flags.serial ?? ''];
  if (!serials[0]) throw new UsageError('device-cert issue needs --serial S or --serials-file F');
  const days = a.flags.days === undefined ? undefined : Number(a.flags.days);
  const passwordFile = a.flags['p12-password-file'];
  const password = passwordFile ? readText(passwordFile, 'password file').trim() : undefined;
  const withPkcs12 = !a.bools.has('no-p12') && (!many || password !== undefined);
  const dir = path.resolve(a.flags.out ?? '.');
  fs.mkdirSync(dir, { recursive: true });
  writeFile(path.join(dir, 'device-ca.crt'), (await admin.devices.ca()).bundlePem, false);
  const issued: Array<{ serial: string; sha256: string; password: string | null; files: string[] }> = [];
  for (const serial of serials) {
    const r = await admin.devices.certs.issue(
      {
        serial,
        ...(days !== undefined ? { days } : {}),
        ...(password ? { pkcs12Password: password } : {}),
        withPkcs12,
      },
      actor(),
    );
    const base = path.join(dir, fileNameOf(serial));
    writeFile(`${base}.crt`, r.cert.certPem, false);
    writeFile(`${base}.key`, r.cert.keyPem, true);
    const files = [`${base}.crt`, `${base}.key`];
    if (withPkcs12) {
      writeFile(`${base}.p12`, r.pkcs12, true);
      files.push(`${base}.p12`);
    }
    issued.push({ serial, sha256: r.cert.sha256, password: withPkcs12 && !password ? r.pkcs12Password : null, files });
  }
  if (a.bools.has('json')) out(JSON.stringify({ ca: path.join(dir, 'device-ca.crt'), issued }));
  else {
    for (const i of issued) {
      out(`${i.serial}: ${i.files.join(', ')} (SHA-256 ${i.sha256})`);
      if (i.password) out(`  PKCS#12 password (shown once): ${i.password}`);
    }
    out(`osquery flags: --tls_client_cert=${dir}/<serial>.crt --tls_client_key=${dir}/<serial>.key`);
  }
  return 0;
}

async function revokeCmd(a: Args, admin: DeviceAdmin): Promise<number> {
  const serial = a.flags.serial;
  const fp = a.flags.fingerprint;
  if ((serial === undefined) === (fp === undefined)) {
    throw new UsageError('device-cert revoke needs --serial S or --fingerprint SHA256 (one of them)');
  }
  const which = serial !== undefined ? { serial } : { sha256: normalizeFingerprint(fp ?? '') };
  const revoked = await admin.devices.service.revokeCerts(which, a.flags.reason ?? 'unspecified', actor());
  if (a.bools.has('json')) out(JSON.stringify({ revoked }));
  else {
    for (const r of revoked) out(`Revoked ${r.sha256}${r.deviceSerial ? ` (${r.deviceSerial})` : ''}.`);
    out('A running server refuses it within 2 seconds; fetch the CRL again for gateways (device-cert crl).');
  }
  return 0;
}

export async function deviceCertCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const sub = need(a, 1, 'device-cert subcommand (issue|revoke|list|crl)');
  if (!['issue', 'revoke', 'list', 'crl'].includes(sub))
    throw new UsageError(`unknown device-cert subcommand "${sub}"`);
  const admin = await openDeviceAdmin(cfg);
  try {
    if (sub === 'issue') return await issueCmd(a, cfg, admin);
    if (sub === 'revoke') return await revokeCmd(a, admin);
    if (sub === 'crl') {
      const pem = await admin.devices.certs.crl();
      if (a.flags.out) writeFile(path.resolve(a.flags.out), pem, false);
      else process.stdout.write(pem);
      return 0;
    }
    const list = await admin.devices.certs.list(a.flags.serial);
    if (a.bools.has('json')) out(JSON.stringify(list));
    else
      out(
        table(
          ['DEVICE', 'SHA-256', 'SERIAL', 'NOT AFTER', 'REVOKED'],
          list.map((c) => [
            c.deviceSerial ?? '(external)',
            c.sha256,
            c.certSerial,
            c.notAfter === null ? '' : isoOf(c.notAfter),
            c.revokedAt === null ? '' : isoOf(c.revokedAt),
          ]),
        ),
      );
    return 0;
  } finally {
    await admin.close();
  }
}
