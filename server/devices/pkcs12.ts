/**
 * PKCS#12 (PFX) of a device key and certificate, for the macOS keychain and the Windows certificate store:
 * the key shrouded with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the certificate beside it, both bags named
 * (friendlyName = the device serial) and paired (localKeyId = the certificate's SHA-1), integrity by an
 * HMAC-SHA256 MAC: what OpenSSL 3 writes by default (2048 iterations; the password is random and long).
 */
import * as asn1js from 'asn1js';
import { createHash, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { engine } from './x509.js';

const ITERATIONS = 2048;
type KeyBagParams = Parameters<pkijs.PKCS8ShroudedKeyBag['makeInternalValues']>[0];
/** pkijs makes the IV itself; the DOM's AesCbcParams type (loaded by the e2e type-check) wants one given. */
const AES_256_CBC = { name: 'AES-CBC', length: 256 } as unknown as KeyBagParams['contentEncryptionAlgorithm'];
const OID = {
  keyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

function attributes(name: string, keyId: ArrayBuffer): pkijs.Attribute[] {
  return [
    new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: name })] }),
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: keyId })] }),
  ];
}

/** The PKCS#12 (DER) of `keyPkcs8` (DER) and `certDer`, protected by `password`. */
export async function buildPkcs12(input: {
  name: string;
  keyPkcs8: ArrayBuffer;
  certDer: ArrayBuffer;
  password: string;
}): Promise<Buffer> {
  const password = new Uint8Array(Buffer.from(input.password, 'utf8')).buffer;
  const keyId = new Uint8Array(createHash('sha1').update(Buffer.from(input.certDer)).digest()).buffer;
  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(input.keyPkcs8) });
  const certBag = new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(input.certDer) });
  const contents = new pkijs.SafeContents({
    safeBags: [
      new pkijs.SafeBag({ bagId: OID.keyBag, bagValue: keyBag, bagAttributes: attributes(input.name, keyId) }),
      new pkijs.SafeBag({ bagId: OID.certBag, bagValue: certBag, bagAttributes: attributes(input.name, keyId) }),
    ],
  });
  await keyBag.makeInternalValues(
    {
      password,
      contentEncryptionAlgorithm: AES_256_CBC,
      hmacHashAlgorithm: 'SHA-256',
      iterationCount: ITERATIONS,
    },
    engine,
  );
  const safe = new pkijs.AuthenticatedSafe({ parsedValue: { safeContents: [{ privacyMode: 0, value: contents }] } });
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe: safe } });
  await safe.makeInternalValues({ safeContents: [{}] }, engine);
  await pfx.makeInternalValues(
    { password, iterations: ITERATIONS, pbkdf2HashAlgorithm: { name: 'SHA-256' }, hmacHashAlgorithm: 'SHA-256' },
    engine,
  );
  return Buffer.from(pfx.toSchema().toBER(false));
}

/** The PKCS#8 DER of an extractable private key. */
export async function pkcs8Of(key: webcrypto.CryptoKey): Promise<ArrayBuffer> {
  return webcrypto.subtle.exportKey('pkcs8', key);
}
