/**
 * The device CA: the PEM bundle whose certificates prove devices at enrollment (TRUSTGATE_DEVICE_CA_FILE, or
 * Trustgate's own `certs/device-ca.crt`), and, when Trustgate holds its key, issuance of device certificates
 * (P-256, CN = the device serial, SAN URI `<prefix><serial>`, clientAuth, 1 year by default) and the CRL.
 * Separate from the server CA: a device certificate never makes a server, and the server's CA key never
 * signs a device. Trustgate's own CA is created on first need, its key written 0600.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as pkijs from 'pkijs';
import { AppError } from '../shared/errors.js';
import { buildPkcs12, pkcs8Of } from './pkcs12.js';
import {
  buildCertificate,
  buildCrl,
  certDer,
  derOf,
  exportKeyPem,
  importKeyPem,
  keyIdOf,
  newCertSerial,
  newKeyPair,
  parseCertificate,
  pem,
  rdn,
  type CrlEntry,
  type Key,
} from './x509.js';

export interface DeviceCaPaths {
  certFile: string;
  keyFile: string;
  /** Trustgate's own CA (the default path): created on first need. */
  own: boolean;
}

/** Where the device CA is: the configured bundle (its key beside it as `<name>.key`, if any), else certs/. */
export function deviceCaPaths(certsDir: string, configured: string | undefined): DeviceCaPaths {
  if (configured) {
    const file = path.resolve(configured);
    return { certFile: file, keyFile: file.replace(/\.(crt|pem)$/i, '') + '.key', own: false };
  }
  return { certFile: path.join(certsDir, 'device-ca.crt'), keyFile: path.join(certsDir, 'device-ca.key'), own: true };
}

export interface IssuedCert {
  deviceSerial: string;
  certPem: string;
  keyPem: string;
  certDer: ArrayBuffer;
  keyPkcs8: ArrayBuffer;
  /** Lower-case hex. */
  sha256: string;
  sha1: string;
  /** Upper-case hex. */
  certSerial: string;
  notBefore: number;
  notAfter: number;
}

export interface DeviceCa {
  certFile: string;
  /** The PEM bundle device certificates must chain to (the TLS server's `ca`). */
  bundlePem: string;
  /** Trustgate holds the key: it can issue certificates and sign the CRL. */
  canIssue: boolean;
  issue(deviceSerial: string, opts: { days: number; now: number; uriPrefix: string }): Promise<IssuedCert>;
  /** A PKCS#12 of an issued certificate and its key. */
  pkcs12(cert: IssuedCert, password: string): Promise<Buffer>;
  /** The CRL (PEM) of `entries`, valid for `validMs`. */
  crl(entries: readonly CrlEntry[], now: number, validMs: number): Promise<string>;
}

const DAY = 86_400_000;

/** A file-name-safe form of a device serial. */
export const fileNameOf = (serial: string): string => serial.replace(/[^A-Za-z0-9._-]/g, '_');

function writeNew(file: string, content: string, mode: number): boolean {
  try {
    fs.writeFileSync(file, content, { mode, flag: 'wx' });
    fs.chmodSync(file, mode);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Creates Trustgate's own device CA (key first, exclusively: a concurrent creator keeps the first one). */
async function createOwnCa(paths: DeviceCaPaths, now: number): Promise<void> {
  fs.mkdirSync(path.dirname(paths.certFile), { recursive: true });
  const keys = await newKeyPair();
  const name = `Trustgate device CA (${os.hostname()})`;
  const subjectO = 'Trustgate';
  const cert = await buildCertificate({
    serial: newCertSerial(),
    subjectCn: name,
    subjectO,
    issuer: rdn(name, subjectO),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    ca: true,
  });
  if (!writeNew(paths.keyFile, await exportKeyPem(keys.privateKey), 0o600)) return;
  fs.writeFileSync(paths.certFile, pem('CERTIFICATE', certDer(cert)));
}

const hex = (algo: 'sha256' | 'sha1', der: ArrayBuffer): string =>
  createHash(algo).update(Buffer.from(der)).digest('hex');

function issuer(caCert: pkijs.Certificate, caKey: Key) {
  return async (deviceSerial: string, o: { days: number; now: number; uriPrefix: string }): Promise<IssuedCert> => {
    const keys = await newKeyPair();
    const notBefore = Math.floor((o.now - 60_000) / 1000) * 1000;
    const notAfter = Math.floor((o.now + o.days * DAY) / 1000) * 1000;
    const certSerial = newCertSerial();
    const cert = await buildCertificate({
      serial: certSerial,
      subjectCn: deviceSerial,
      issuer: caCert.subject,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: caKey,
      ca: false,
      uris: [`${o.uriPrefix}${encodeURIComponent(deviceSerial)}`],
      authorityKeyId: keyIdOf(caCert),
    });
    const der = certDer(cert);
    return {
      deviceSerial,
      certPem: pem('CERTIFICATE', der),
      keyPem: await exportKeyPem(keys.privateKey),
      certDer: der,
      keyPkcs8: await pkcs8Of(keys.privateKey),
      sha256: hex('sha256', der),
      sha1: hex('sha1', der),
      certSerial,
      notBefore,
      notAfter,
    };
  };
}

/**
 * The device CA at `paths`; Trustgate's own is created when missing and `create` is set. Undefined when
 * there is none (and none is to be created); an unreadable bundle is an error naming the file.
 */
export async function openDeviceCa(
  paths: DeviceCaPaths,
  opts: { create: boolean; now: number },
): Promise<DeviceCa | undefined> {
  if (!fs.existsSync(paths.certFile)) {
    if (!paths.own) throw new AppError('invalid', `the device CA file ${paths.certFile} does not exist`);
    if (!opts.create) return undefined;
    await createOwnCa(paths, opts.now);
  }
  const bundlePem = fs.readFileSync(paths.certFile, 'utf8');
  let caCert: pkijs.Certificate;
  try {
    caCert = parseCertificate(derOf(bundlePem, 'CERTIFICATE'));
  } catch {
    throw new AppError('invalid', `the device CA file ${paths.certFile} holds no PEM certificate`);
  }
  const keyPem = fs.existsSync(paths.keyFile) ? fs.readFileSync(paths.keyFile, 'utf8') : undefined;
  const caKey = keyPem ? await importKeyPem(keyPem) : undefined;
  const noKey = (): never => {
    throw new AppError(
      'invalid',
      `Trustgate does not hold the key of the device CA ${paths.certFile}: issue and revoke with your own PKI ` +
        '(Trustgate still refuses certificates revoked by fingerprint)',
    );
  };
  return {
    certFile: paths.certFile,
    bundlePem,
    canIssue: caKey !== undefined,
    issue: caKey ? issuer(caCert, caKey) : noKey,
    pkcs12: (c, password) => buildPkcs12({ name: c.deviceSerial, keyPkcs8: c.keyPkcs8, certDer: c.certDer, password }),
    async crl(entries, now, validMs) {
      if (!caKey) {
        throw new AppError(
          'not_found',
          `Trustgate does not hold the key of ${paths.certFile}: your PKI publishes the CRL`,
        );
      }
      return pem('X509 CRL', await buildCrl(caCert, caKey, entries, now, validMs));
    },
  };
}
