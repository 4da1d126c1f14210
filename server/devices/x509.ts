/**
 * X.509 building blocks for Trustgate's own device CA, on WebCrypto (Node's) through pkijs: P-256 keys,
 * certificates with their extensions, a CRL, PEM. P-256 because an ECDSA key is generated and signed in
 * about a millisecond (node-forge signs RSA only, and an RSA key takes 100+ ms), and every current osquery,
 * nginx, macOS keychain and Windows certificate store accepts it.
 */
import * as asn1js from 'asn1js';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
/** A key as pkijs types it (the DOM's CryptoKey, which this project does not load). */
type PkiKey = Parameters<pkijs.Certificate['sign']>[0];
export type Key = webcrypto.CryptoKey;
export type KeyPair = webcrypto.CryptoKeyPair;
const pki = (k: Key): PkiKey => k as unknown as PkiKey;

/** pkijs's crypto engine over Node's WebCrypto, passed to every call (pkijs's global engine is never set). */
export const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto });

export const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_HASH = 'SHA-256';

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export async function newKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

export async function exportKeyPem(key: Key): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

export async function importKeyPem(text: string): Promise<Key> {
  return webcrypto.subtle.importKey('pkcs8', derOf(text, 'PRIVATE KEY'), EC_KEY, true, ['sign']);
}

export function pem(label: string, der: ArrayBuffer | Buffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** The DER of the first PEM block with this label. */
export function derOf(text: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(text);
  if (!m?.[1]) throw new Error(`no ${label} PEM block`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

/** A positive 128-bit certificate serial, as upper-case hex (how nginx and Node print it). */
export function newCertSerial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 1) & 0x7f) | 0x01;
  return b.toString('hex').toUpperCase();
}

const ext = (extnID: string, value: { toSchema(): asn1js.AsnType }, critical = false): pkijs.Extension =>
  new pkijs.Extension({ extnID, critical, extnValue: value.toSchema().toBER(false) });

const rawExt = (extnID: string, value: asn1js.AsnType, critical = false): pkijs.Extension =>
  new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });

/** A key usage BIT STRING: digitalSignature = bit 0, keyCertSign = bit 5, cRLSign = bit 6. */
function keyUsage(bits: number[]): asn1js.BitString {
  let v = 0;
  for (const b of bits) v |= 0x80 >> b;
  const unused = Math.min(7, 7 - Math.max(...bits));
  return new asn1js.BitString({ valueHex: new Uint8Array([v]).buffer, unusedBits: unused });
}

export interface CertSpec {
  serial: string;
  subjectCn: string;
  subjectO?: string;
  issuer: pkijs.RelativeDistinguishedNames;
  notBefore: Date;
  notAfter: Date;
  publicKey: Key;
  signingKey: Key;
  ca: boolean;
  /** SAN URIs (device certificates). */
  uris?: string[];
  /** The issuing CA's subject key identifier (authority key identifier of the new certificate). */
  authorityKeyId?: ArrayBuffer;
}

export function rdn(cn: string, o?: string): pkijs.RelativeDistinguishedNames {
  const names = new pkijs.RelativeDistinguishedNames();
  if (o) {
    names.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({ type: OID.organization, value: new asn1js.Utf8String({ value: o }) }),
    );
  }
  names.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: cn }) }),
  );
  return names;
}

/** The SHA-1 of the subject public key (the usual key identifier). */
export function keyIdOf(cert: pkijs.Certificate): ArrayBuffer {
  const spk = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return new Uint8Array(createHash('sha1').update(spk).digest()).buffer;
}

export async function buildCertificate(spec: CertSpec): Promise<pkijs.Certificate> {
  const c = new pkijs.Certificate();
  c.version = 2;
  c.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(spec.serial, 'hex')).buffer });
  c.subject = rdn(spec.subjectCn, spec.subjectO);
  c.issuer = spec.issuer;
  c.notBefore.value = spec.notBefore;
  c.notAfter.value = spec.notAfter;
  await c.subjectPublicKeyInfo.importKey(pki(spec.publicKey), engine);
  const exts: pkijs.Extension[] = [ext(OID.basicConstraints, new pkijs.BasicConstraints({ cA: spec.ca }), true)];
  if (spec.ca) {
    exts.push(rawExt(OID.keyUsage, keyUsage([5, 6]), true));
    exts.push(rawExt(OID.subjectKeyId, new asn1js.OctetString({ valueHex: keyIdOf(c) })));
  } else {
    exts.push(rawExt(OID.keyUsage, keyUsage([0]), true));
    exts.push(ext(OID.extKeyUsage, new pkijs.ExtKeyUsage({ keyPurposes: [OID.clientAuth] })));
  }
  if (spec.uris?.length) {
    const names = spec.uris.map((value) => new pkijs.GeneralName({ type: 6, value }));
    exts.push(ext(OID.subjectAltName, new pkijs.GeneralNames({ names })));
  }
  if (spec.authorityKeyId) {
    const keyIdentifier = new asn1js.OctetString({ valueHex: spec.authorityKeyId });
    exts.push(ext(OID.authorityKeyId, new pkijs.AuthorityKeyIdentifier({ keyIdentifier })));
  }
  c.extensions = exts;
  await c.sign(pki(spec.signingKey), SIGN_HASH, engine);
  return c;
}

export const certDer = (c: pkijs.Certificate): ArrayBuffer => c.toSchema().toBER(false);

export function parseCertificate(der: Buffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(der).buffer);
}

/** The subject key identifier extension's value, if the certificate has one. */
export function subjectKeyIdOf(c: pkijs.Certificate): ArrayBuffer | undefined {
  const e = c.extensions?.find((x) => x.extnID === OID.subjectKeyId);
  const parsed = e?.parsedValue as asn1js.OctetString | undefined;
  return parsed ? new Uint8Array(parsed.valueBlock.valueHexView).buffer : undefined;
}

export interface CrlEntry {
  certSerial: string;
  revokedAt: number;
}

/** A signed v2 CRL of `entries` (CRL number: the issue second, increasing). */
export async function buildCrl(
  ca: pkijs.Certificate,
  key: Key,
  entries: readonly CrlEntry[],
  now: number,
  validMs: number,
): Promise<ArrayBuffer> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = ca.subject;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: new Date(now) });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: new Date(now + validMs) });
  if (entries.length) {
    crl.revokedCertificates = entries.map(
      (e) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(e.certSerial, 'hex')).buffer }),
          revocationDate: new pkijs.Time({ type: 0, value: new Date(e.revokedAt) }),
        }),
    );
  }
  const exts = [rawExt(OID.crlNumber, new asn1js.Integer({ value: Math.floor(now / 1000) }))];
  const keyId = subjectKeyIdOf(ca);
  if (keyId) {
    const keyIdentifier = new asn1js.OctetString({ valueHex: keyId });
    exts.push(ext(OID.authorityKeyId, new pkijs.AuthorityKeyIdentifier({ keyIdentifier })));
  }
  crl.crlExtensions = new pkijs.Extensions({ extensions: exts });
  await crl.sign(pki(key), SIGN_HASH, engine);
  return crl.toSchema(true).toBER(false);
}
