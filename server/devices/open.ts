/**
 * The device-identity pieces built once, for the server (main.ts) and the CLI: the device CA (opened, and
 * Trustgate's own created, at start in the certificate modes, else on first need), the certificate service
 * with its revocation set, the device service, the reader of connections' client certificates, and the TLS
 * server options that ask for one (certificate modes only: without them browsers are never asked).
 */
import type { AuditRecorder, Store } from '../domain/ports.js';
import { modeNeedsCertificate, type EnrollMode } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { deviceCaPaths, openDeviceCa, type DeviceCa } from './ca.js';
import { createDeviceCerts, type DeviceCerts } from './certs.js';
import type { WebhookMessage } from './events.js';
import { createPeerCertReader, type IdentityField } from './peer-cert.js';
import { createDeviceService, type DeviceService, type LiveViews } from './service.js';
import { AppError } from '../shared/errors.js';

export interface DeviceSettings {
  enrollMode: EnrollMode;
  certsDir: string;
  deviceCaFile?: string | undefined;
  deviceCertIdentity: IdentityField;
  deviceCertUriPrefix: string;
}

export interface OpenDevicesDeps {
  settings: DeviceSettings;
  store: Pick<Store, 'hosts' | 'inventory' | 'rejections' | 'settings' | 'deviceCerts'>;
  audit: Pick<AuditRecorder, 'record' | 'later'>;
  live: LiveViews;
  notify?: (message: WebhookMessage) => void;
  /** The inventory changed in this process (DeviceServiceDeps.onInventoryChange). */
  onInventoryChange?: () => Promise<void>;
  clock: Clock;
  log: Logger;
}

export interface Devices {
  service: DeviceService;
  certs: DeviceCerts;
  /** The device CA, opened (Trustgate's own created) on first need. */
  ca(): Promise<DeviceCa>;
  /** Client-certificate options for the HTTPS server (certificate modes), else undefined. */
  tlsOptions: { requestCert: true; rejectUnauthorized: false; ca: string } | undefined;
  /** The connection's client certificate, per request (certificate modes), else undefined. */
  peerCert: ReturnType<typeof createPeerCertReader> | undefined;
}

export async function openDevices(deps: OpenDevicesDeps): Promise<Devices> {
  const { settings: s, store, clock } = deps;
  const paths = deviceCaPaths(s.certsDir, s.deviceCaFile);
  let opening: Promise<DeviceCa> | undefined;
  const ca = (): Promise<DeviceCa> => {
    opening ??= openDeviceCa(paths, { create: true, now: clock.now() }).then((c) => {
      if (!c) throw new AppError('not_found', `no device CA at ${paths.certFile}`);
      return c;
    });
    void opening.catch(() => {
      opening = undefined; // a failure is reported to its caller; the next need tries again
    });
    return opening;
  };
  const certMode = modeNeedsCertificate(s.enrollMode);
  const deviceCa = certMode ? await ca() : undefined;
  const certs = createDeviceCerts({
    certs: store.deviceCerts,
    hosts: store.hosts,
    ca,
    uriPrefix: s.deviceCertUriPrefix,
    audit: deps.audit,
    clock,
  });
  const service = createDeviceService({
    store,
    certs,
    live: deps.live,
    audit: deps.audit,
    ...(deps.notify ? { notify: deps.notify } : {}),
    ...(deps.onInventoryChange ? { onInventoryChange: deps.onInventoryChange } : {}),
    mode: s.enrollMode,
    clock,
    log: deps.log,
  });
  await service.init();
  return {
    service,
    certs,
    ca,
    tlsOptions: deviceCa ? { requestCert: true, rejectUnauthorized: false, ca: deviceCa.bundlePem } : undefined,
    peerCert: certMode
      ? createPeerCertReader({ field: s.deviceCertIdentity, uriPrefix: s.deviceCertUriPrefix })
      : undefined,
  };
}
