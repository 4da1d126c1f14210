/**
 * The admin API's device-identity routes: the device inventory (list, one, import, remove), devices held
 * pending (list, approve, reject), enrollment rejections (list, clear), device certificates (issue, shown
 * once; revoke; list); and the public device CA certificate and CRL (`/device-ca.crt`, `/device-ca.crl`,
 * for gateways' `ssl_client_certificate` / `ssl_crl`). Decisions go through the device service, audited.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Store } from '../domain/ports.js';
import type { DeviceCertRecord, EnrollMode, Host, InventoryDevice, Role } from '../domain/types.js';
import type { DeviceCa } from '../devices/ca.js';
import { normalizeFingerprint, type DeviceCerts } from '../devices/certs.js';
import { formatOf } from '../devices/inventory-file.js';
import type { DeviceService } from '../devices/service.js';
import { isoOf } from '../shared/clock.js';
import { invalid, notFound } from '../shared/errors.js';
import { certIssueBody, certRevokeBody, inventoryImportBody, parseBody } from './device-schemas.js';
import { actorOf, int, pathParam, text } from './request.js';

export interface DeviceRouteDeps {
  devices: DeviceService;
  certs: DeviceCerts;
  store: Pick<Store, 'inventory' | 'rejections' | 'hosts'>;
  ca(): Promise<DeviceCa>;
  mode: EnrollMode;
}

const iso = (t: number | null): string | null => (t === null ? null : isoOf(t));

export const deviceJson = (d: InventoryDevice) => ({
  serial: d.serial,
  hardware_uuid: d.hardwareUuid,
  owners: d.owners,
  asset_tag: d.assetTag,
  source: d.source,
  imported_at: isoOf(d.importedAt),
  updated_at: isoOf(d.updatedAt),
});

export const pendingHostJson = (h: Host) => ({
  id: h.id,
  serial: h.serial,
  hardware_uuid: h.hardwareUuid,
  hostname: h.hostname,
  platform: h.platform,
  os_version: h.osVersion,
  enroll_state: h.enrollState,
  pending_reason: h.pendingReason,
  enroll_secret: h.enrollSecretName,
  enrolled_at: isoOf(h.enrolledAt),
  last_seen_at: isoOf(h.lastSeenAt),
  certificate: h.cert ? { sha256: h.cert.sha256, serial: h.cert.serial, not_after: isoOf(h.cert.notAfter) } : null,
});

export const certJson = (c: DeviceCertRecord) => ({
  sha256: c.sha256,
  sha1: c.sha1,
  cert_serial: c.certSerial,
  device_serial: c.deviceSerial,
  not_before: iso(c.notBefore),
  not_after: iso(c.notAfter),
  issued_at: iso(c.issuedAt),
  revoked_at: iso(c.revokedAt),
  revoked_by: c.revokedBy,
  revoke_reason: c.revokeReason,
});

function hostId(params: Readonly<Record<string, string>>): number {
  const id = Number(pathParam(params, 'id'));
  if (!Number.isInteger(id) || id < 1)
    throw invalid('a host id is a positive integer (see GET /api/v1/pending-devices)');
  return id;
}

function inventoryRoutes(r: Router, deps: DeviceRouteDeps, read: Middleware, admin: Middleware): void {
  r.get('/devices', read, async (ctx) => {
    const search = text(ctx.query.search, 'search');
    const limit = int(ctx.query.limit, 'limit', 1000, 100_000);
    const offset = int(ctx.query.offset, 'offset', 0, 10_000_000);
    const list = await deps.store.inventory.list({ ...(search ? { search } : {}), limit, offset });
    ctx.body = { total: await deps.store.inventory.count(), devices: list.map(deviceJson) };
  });
  r.get('/devices/:serial', read, async (ctx) => {
    const serial = pathParam(ctx.params, 'serial');
    const d = await deps.store.inventory.get(serial);
    if (!d) throw notFound(`device "${serial}" in the inventory`);
    const hosts = await deps.store.hosts.findBySerial(serial);
    ctx.body = { device: deviceJson(d), hosts: hosts.map(pendingHostJson) };
  });
  r.post('/devices/import', admin, async (ctx) => {
    const b = parseBody(inventoryImportBody, ctx.request.body, 'inventory import');
    const source = b.source ?? 'api';
    const out = await deps.devices.importInventory(
      { text: b.text, format: b.format ?? formatOf(source, b.text), source, dryRun: b.dry_run, replace: b.replace },
      actorOf(ctx),
    );
    ctx.body = { ...out, dry_run: b.dry_run === true };
  });
  r.delete('/devices/:serial', admin, async (ctx) => {
    await deps.devices.removeInventory(pathParam(ctx.params, 'serial'), actorOf(ctx));
    ctx.status = 204;
  });
}

function pendingRoutes(r: Router, deps: DeviceRouteDeps, read: Middleware, admin: Middleware): void {
  r.get('/pending-devices', read, async (ctx) => {
    ctx.body = { mode: deps.mode, hosts: (await deps.devices.pending()).map(pendingHostJson) };
  });
  r.post('/pending-devices/:id/approve', admin, async (ctx) => {
    const { host, replaced } = await deps.devices.approve(hostId(ctx.params), actorOf(ctx));
    ctx.body = { host: pendingHostJson(host), replaced: replaced.map(pendingHostJson) };
  });
  r.post('/pending-devices/:id/reject', admin, async (ctx) => {
    const host = await deps.devices.reject(hostId(ctx.params), actorOf(ctx));
    ctx.body = { rejected: pendingHostJson(host) };
  });
  r.get('/enroll-rejections', read, async (ctx) => {
    ctx.body = {
      rejections: (await deps.store.rejections.list()).map((x) => ({
        serial: x.serial,
        hardware_uuid: x.hardwareUuid,
        rejected_at: isoOf(x.rejectedAt),
        rejected_by: x.rejectedBy,
      })),
    };
  });
  r.delete('/enroll-rejections/:serial', admin, async (ctx) => {
    const uuid = text(ctx.query.hardware_uuid, 'hardware_uuid');
    const n = await deps.devices.clearRejection(pathParam(ctx.params, 'serial'), uuid, actorOf(ctx));
    ctx.body = { cleared: n };
  });
}

function certRoutes(r: Router, deps: DeviceRouteDeps, read: Middleware, admin: Middleware): void {
  r.post('/device-certs', admin, async (ctx) => {
    const b = parseBody(certIssueBody, ctx.request.body, 'device certificate');
    const { cert, pkcs12, pkcs12Password } = await deps.certs.issue(
      {
        serial: b.serial,
        ...(b.days !== undefined ? { days: b.days } : {}),
        ...(b.pkcs12_password !== undefined ? { pkcs12Password: b.pkcs12_password } : {}),
      },
      actorOf(ctx),
    );
    ctx.status = 201;
    ctx.body = {
      serial: cert.deviceSerial,
      sha256: cert.sha256,
      sha1: cert.sha1,
      cert_serial: cert.certSerial,
      not_before: isoOf(cert.notBefore),
      not_after: isoOf(cert.notAfter),
      certificate: cert.certPem,
      private_key: cert.keyPem,
      ca_certificate: (await deps.ca()).bundlePem,
      pkcs12: pkcs12.toString('base64'),
      pkcs12_password: b.pkcs12_password === undefined ? pkcs12Password : null,
    };
  });
  r.post('/device-certs/revoke', admin, async (ctx) => {
    const b = parseBody(certRevokeBody, ctx.request.body, 'revocation');
    const reason = b.reason ?? 'unspecified';
    const which = b.serial !== undefined ? { serial: b.serial } : { sha256: normalizeFingerprint(b.sha256 ?? '') };
    const revoked = await deps.devices.revokeCerts(which, reason, actorOf(ctx));
    ctx.body = { revoked: revoked.map(certJson) };
  });
  r.get('/device-certs', read, async (ctx) => {
    const serial = text(ctx.query.serial, 'serial');
    ctx.body = { certificates: (await deps.certs.list(serial)).map(certJson) };
  });
}

export function deviceRouter(deps: DeviceRouteDeps, requireRole: (...roles: Role[]) => Middleware): Router {
  const r = new Router({ prefix: '/api/v1' });
  const read = requireRole('viewer');
  const admin = requireRole('admin');
  inventoryRoutes(r, deps, read, admin);
  pendingRoutes(r, deps, read, admin);
  certRoutes(r, deps, read, admin);
  return r;
}

/** The device CA's certificate and CRL: public (gateways load them), PEM. */
export function deviceCaRouter(deps: Pick<DeviceRouteDeps, 'certs' | 'ca'>): Router {
  const r = new Router();
  r.get('/device-ca.crt', async (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = (await deps.ca()).bundlePem;
  });
  r.get('/device-ca.crl', async (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.body = await deps.certs.crl();
  });
  return r;
}
