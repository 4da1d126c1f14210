/**
 * The key identifiers of the device CA bundle's certificates (their Subject Key Identifier extension, and
 * the SHA-1 of the public key, the usual method), lower-case hex: what osquery's `certificates` table
 * reports as `authority_key_id` for a certificate the CA issued.
 */
import * as asn1js from 'asn1js';
import { keyIdOf, parseCertificate } from './x509.js';

const SKI = '2.5.29.14';

export function caKeyIds(bundlePem: string): string[] {
  const out = new Set<string>();
  for (const m of bundlePem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)) {
    try {
      const cert = parseCertificate(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
      out.add(Buffer.from(keyIdOf(cert)).toString('hex'));
      const ext = cert.extensions?.find((e) => e.extnID === SKI);
      const parsed = ext ? asn1js.fromBER(ext.extnValue.valueBlock.valueHexView) : undefined;
      if (parsed && parsed.offset !== -1 && parsed.result instanceof asn1js.OctetString) {
        out.add(Buffer.from(parsed.result.valueBlock.valueHexView).toString('hex'));
      }
    } catch {
      // not a certificate: skipped (the bundle was already accepted by the TLS server)
    }
  }
  return [...out];
}
