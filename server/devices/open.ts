/**
 * The device-identity pieces built once, for the server (main.ts) and the CLI: the device CA (opened, and
 * Trustgate's own created, at start in the certificate modes, else on first need), the certificate service
 * with its revocation set, the device service, the reader of connections' client certificates, and the TLS
 * server options that ask for one (certificate modes only: without them browsers are never asked).
 */
import fs from 'node:fs';
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
import { DEVICE_CERTS_QUERY_KEY } from '../domain/device-certs-query.js';
import { caKeyIds } from './ca-key-ids.js';
import { createCertIndex, type CertIndex } from './cert-index.js';

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

/**
 * How often the certificate index asks whether another process (e.g. the CLI) changed what it maps: one
 * number read from the store and the device CA's key ids; it rebuilds only when either moved.
 */
export const CERT_INDEX_CHECK_MS = 5_000;

/**
 * The certificate → device index for the gateway (cert-index.ts), built from the store now, rebuilt after
 * this process issues or revokes a certificate (`devices.certs` is wrapped) and, every CERT_INDEX_CHECK_MS,
 * when the store's device-identity version or the device CA moved. Returns the index and what stops its timer.
 */
export async function openCertIndex(
  devices: { certs: Pick<DeviceCerts, 'issue' | 'revoke' | 'revoked'> },
  settings: Pick<DeviceSettings, 'certsDir' | 'deviceCaFile'>,
  store: Pick<Store, 'hosts' | 'deviceCerts' | 'results' | 'deviceIdentityVersion'>,
  log: Logger,
): Promise<{ index: CertIndex; stop(): void }> {
  const paths = deviceCaPaths(settings.certsDir, settings.deviceCaFile);
  const index = createCertIndex({
    issued: () => store.deviceCerts.list(),
    hosts: (afterId, limit) => store.hosts.activeCerts({ afterId, limit }),
    reported: () => store.results.latestForQueries([DEVICE_CERTS_QUERY_KEY]),
    reportedBy: (hostId) => store.results.latestForHost(hostId),
    // the CA as it is on disk (never created here); none yet: no reported certificate is accepted
    caKeyIds: async () =>
      fs.existsSync(paths.certFile) ? caKeyIds(await fs.promises.readFile(paths.certFile, 'utf8')) : [],
    revoked: (sha256) => devices.certs.revoked(sha256),
    version: () => store.deviceIdentityVersion(),
    log,
  });
  await index.refresh();
  const refresh = (): Promise<void> =>
    index.refresh().catch((e: unknown) => log.warn({ err: e }, 'certificate index refresh failed'));
  const { issue, revoke } = devices.certs;
  devices.certs.issue = async (input, actor) => {
    const out = await issue(input, actor);
    await refresh(); // the certificate maps to its device once the call returns
    return out;
  };
  devices.certs.revoke = async (which, reason, actor) => {
    const out = await revoke(which, reason, actor);
    await refresh();
    return out;
  };
  const timer = setInterval(() => {
    index.refreshIfChanged().catch((e: unknown) => log.warn({ err: e }, 'certificate index refresh failed'));
  }, CERT_INDEX_CHECK_MS);
  timer.unref();
  return { index, stop: () => clearInterval(timer) };
}
