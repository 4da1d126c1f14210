/**
 * The built-in certificates query's result as osqueryd sends it (test helper): one row per certificate in
 * the device's keychain, logged as a snapshot. Throws when the server does not take it.
 */
import { X509Certificate } from 'node:crypto';
import { DEVICE_CERTS_QUERY_KEY } from '../../server/domain/device-certs-query.js';
import { snapshotLine } from '../osquery/agent.js';
import type { Device } from './baseline.js';

/** A certificate's SHA-1 fingerprint as nginx's `$ssl_client_fingerprint` gives it (lower-case hex). */
export const sha1Of = (pem: string): string => new X509Certificate(pem).fingerprint.replace(/:/g, '').toLowerCase();

export async function reportKeychain(
  d: Device,
  unixTime: number,
  certs: ReadonlyArray<{ pem: string; aki: string }>,
): Promise<void> {
  const rows = certs.map(({ pem, aki }) => {
    const x = new X509Certificate(pem);
    return {
      common_name: /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1] ?? '',
      sha1: sha1Of(pem),
      serial: x.serialNumber,
      authority_key_id: aki,
      not_valid_after: String(Math.floor(Date.parse(x.validTo) / 1000)),
      store: 'login.keychain-db',
      username: 'user',
    };
  });
  const [pack, query] = DEVICE_CERTS_QUERY_KEY.split('/');
  const r = await d.agent.post('/log', {
    log_type: 'result',
    data: [snapshotLine(`pack/${pack}/${query}`, unixTime, rows)],
  });
  if (r.status !== 200) throw new Error(`keychain report refused: ${r.status} ${r.text}`);
}
