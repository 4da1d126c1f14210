/**
 * The built-in query that reports the device certificates in a device's keychain or certificate store
 * (osquery's `certificates` table: macOS keychains, Windows stores, Linux CA paths), so a certificate a
 * gateway presents can be mapped to the device that holds it. The device keeps only certificates whose CN
 * is its own hardware serial (anyone can import a colleague's public certificate into their keychain, so
 * Trustgate accepts a reported certificate only when it names the reporting device); Trustgate also keeps
 * only those issued by the device CA (authority key id). Added to every host's config, next to the packs.
 */
import type { Pack } from './types.js';

export const DEVICE_CERTS_PACK = 'trustgate_builtin';
export const DEVICE_CERTS_QUERY = 'device_certificates';
/** The query key its results are stored under (`pack/<pack>/<query>` in the result log). */
export const DEVICE_CERTS_QUERY_KEY = `${DEVICE_CERTS_PACK}/${DEVICE_CERTS_QUERY}`;
/** Seconds between runs (a certificate installed now maps to the device within this, plus the log period). */
export const DEVICE_CERTS_INTERVAL = 900;

export const DEVICE_CERTS_SQL =
  'SELECT c.common_name, c.sha1, c.serial, c.authority_key_id, c.not_valid_after, c.store, c.username ' +
  'FROM certificates c, system_info s WHERE c.ca = 0 AND c.common_name = s.hardware_serial';

export const deviceCertsPack: Pack = Object.freeze({
  name: DEVICE_CERTS_PACK,
  source: '(built in)',
  queries: {
    [DEVICE_CERTS_QUERY]: {
      query: DEVICE_CERTS_SQL,
      interval: DEVICE_CERTS_INTERVAL,
      snapshot: true,
      description: 'Trustgate: device certificates in the keychain / certificate store (CN = this serial)',
    },
  },
}) as Pack;
