/**
 * TLS material. If `server.crt`/`server.key` are missing in the certs dir, a dev CA (`ca.crt`, `ca.key`)
 * and a server certificate for localhost, 127.0.0.1, ::1 and the machine's hostname are generated with
 * node-forge (keys come from Node's native RSA generator, which is much faster than forge's JS one).
 * Private keys are written 0600. Production deployments drop their own server.crt/server.key in place.
 */
import forge from 'node-forge';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

export interface TlsFiles {
  cert: string;
  key: string;
  /** The CA agents must trust (dev CA, or ca.crt if an operator provided one); may be undefined. */
  ca?: string;
  generated: boolean;
}

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem);
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e);
  return { privateKey: priv, publicKey: pub, pem };
}

const serial = () => `01${randomBytes(15).toString('hex')}`; // positive, 128-bit

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** Generates a dev CA + server certificate into `dir`. Returns the PEMs. */
export function generateDevCerts(
  dir: string,
  names: string[] = defaultNames(),
  now = new Date(),
): { caPem: string; certPem: string; keyPem: string } {
  fs.mkdirSync(dir, { recursive: true });
  const ca = newKeyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(now.getTime() - 60_000);
  caCert.validity.notAfter = new Date(now.getTime() + 5 * 365 * 86_400_000);
  const caSubject = [
    { name: 'commonName', value: `Trustgate dev CA (${os.hostname()})` },
    { name: 'organizationName', value: 'Trustgate' },
  ];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const srv = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = srv.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 397 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(caSubject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (net.isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  const caPem = forge.pki.certificateToPem(caCert);
  const certPem = forge.pki.certificateToPem(cert);
  fs.writeFileSync(path.join(dir, 'ca.crt'), caPem);
  writeSecret(path.join(dir, 'ca.key'), ca.pem);
  fs.writeFileSync(path.join(dir, 'server.crt'), certPem);
  writeSecret(path.join(dir, 'server.key'), srv.pem);
  return { caPem, certPem, keyPem: srv.pem };
}

export function defaultNames(): string[] {
  return [...new Set(['localhost', os.hostname(), '127.0.0.1', '::1'])];
}

/** Uses existing certs, or generates dev ones. */
export function ensureTls(dir: string): TlsFiles {
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  const caFile = path.join(dir, 'ca.crt');
  let generated = false;
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    generateDevCerts(dir);
    generated = true;
  }
  return { cert, key, ca: fs.existsSync(caFile) ? caFile : undefined, generated };
}
