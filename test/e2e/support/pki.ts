/**
 * A throwaway PKI for e2e tests of device client certificates (mTLS): one CA that issues the protected
 * sites' server certificate and the devices' client certificates (CN = hardware serial), as an MDM or
 * internal PKI would. Keys come from Node's RSA generator; node-forge builds and signs the certificates.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface Issued {
  certPem: string;
  keyPem: string;
}

export interface TestPki {
  caPem: string;
  /** A server certificate for these DNS names. */
  server(names: string[]): Issued;
  /** A device client certificate whose subject CN is the device serial. */
  device(serial: string): Issued;
  /** A device client certificate with this subject (node-forge attributes, in order: the last prints first). */
  deviceWithSubject(subject: Array<{ name: string; value: string }>): Issued;
}

function keyPair(): { priv: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem);
  return { priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e), pem };
}

const serialNumber = (): string => `01${randomBytes(15).toString('hex')}`;

export function createTestPki(): TestPki {
  const ca = keyPair();
  const caCert = forge.pki.createCertificate();
  const subject = [
    { name: 'commonName', value: 'Trustgate e2e device CA' },
    { name: 'organizationName', value: 'Trustgate tests' },
  ];
  caCert.publicKey = ca.pub;
  caCert.serialNumber = serialNumber();
  caCert.validity.notBefore = new Date(Date.now() - 60_000);
  caCert.validity.notAfter = new Date(Date.now() + 86_400_000);
  caCert.setSubject(subject);
  caCert.setIssuer(subject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.priv, forge.md.sha256.create());

  function issue(cn: string | Array<{ name: string; value: string }>, extensions: object[]): Issued {
    const k = keyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = k.pub;
    cert.serialNumber = serialNumber();
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject(
      typeof cn === 'string'
        ? [
            { name: 'commonName', value: cn },
            { name: 'organizationName', value: 'Trustgate tests' },
          ]
        : cn,
    );
    cert.setIssuer(subject);
    cert.setExtensions([{ name: 'basicConstraints', cA: false }, ...extensions]);
    cert.sign(ca.priv, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), keyPem: k.pem };
  }

  return {
    caPem: forge.pki.certificateToPem(caCert),
    server: (names) =>
      issue(names[0] ?? 'localhost', [
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
      ]),
    device: (serial) =>
      issue(serial, [
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ]),
    deviceWithSubject: (subject) =>
      issue(subject, [
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ]),
  };
}
