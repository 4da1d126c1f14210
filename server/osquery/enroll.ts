/**
 * Enrollment (POST /api/v1/osquery/enroll): the enroll secret is compared against every active one
 * (constant time, no early exit), the device identity comes from the agent's host details (normalize.ts),
 * the enrollment gate (enroll-gate.ts) decides what the device becomes from the enrollment mode, the
 * connection's client certificate, the inventory and the records of its serial, and a fresh node key is
 * handed out once (also to a device held pending, so approval takes effect at its next check-in); only its
 * hash is stored. Re-enrolling drops the device's previous key from the node-key cache. Conflicts,
 * re-enrollments of active devices and certificate (re)bindings go to the device event sink.
 */
import type {
  DeviceEventSink,
  DeviceInventoryRepo,
  EnrollOutcome,
  EnrollRejectionRepo,
  EnrollSecretRepo,
  HostRepo,
  NodeKeyCache,
} from '../domain/ports.js';
import type { Host, PresentedCert } from '../domain/types.js';
import { modeNeedsInventory } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { matchesHash, randomSecret, sha256Hex } from '../shared/crypto.js';
import { forbidden, invalid, unauthenticated, unavailable } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { decideEnrollment, type GateOutcome, type GateSettings } from './enroll-gate.js';
import { enrollFacts } from './normalize.js';
import type { EnrollBody } from './schemas.js';

export interface EnrollSettings extends GateSettings {
  /** Pending hosts kept at most: beyond it new pending enrollments are refused (the secret cannot fill the store). */
  pendingMax: number;
}

export interface EnrollDeps {
  hosts: Pick<HostRepo, 'enroll' | 'findBySerial' | 'countPending'>;
  secrets: Pick<EnrollSecretRepo, 'active'>;
  inventory: Pick<DeviceInventoryRepo, 'get' | 'bindHardwareUuid'>;
  rejections: Pick<EnrollRejectionRepo, 'has'>;
  /** The revocation set (fingerprints), kept in memory. */
  revoked(sha256: string): boolean;
  enrollment: EnrollSettings;
  nodeKeys: Pick<NodeKeyCache, 'delete'>;
  devices: DeviceEventSink;
  onEnrolled(host: Host, reenrolled: boolean): Promise<void> | void;
  clock: Clock;
  log: Logger;
  metrics?: Pick<Metrics, 'enrollRefused'>;
}

/** The name of the active secret that matches; every secret is checked so timing reveals none. */
async function matchingSecret(deps: EnrollDeps, body: EnrollBody, now: number): Promise<string> {
  const secrets = await deps.secrets.active(now);
  let matched: string | undefined;
  for (const s of secrets) if (matchesHash(body.enroll_secret, s.hash) && matched === undefined) matched = s.name;
  if (matched === undefined) {
    deps.log.warn(
      { event: 'host.enroll_refused', hostIdentifier: body.host_identifier },
      'enroll refused: invalid enroll secret',
    );
    deps.metrics?.enrollRefused.inc({ reason: 'secret' });
    throw unauthenticated('invalid enroll secret');
  }
  return matched;
}

/** The gate's decision, with what it reads from the store (inventory, rejections, the serial's hosts). */
async function decide(
  deps: EnrollDeps,
  facts: { serial: string; hardwareUuid: string },
  cert: PresentedCert | null,
  now: number,
): Promise<{ gate: GateOutcome; existing: Host[] }> {
  const { serial, hardwareUuid } = facts;
  const [rejected, inventory, existing] = await Promise.all([
    deps.rejections.has(serial, hardwareUuid),
    modeNeedsInventory(deps.enrollment.mode) ? deps.inventory.get(serial) : Promise.resolve(undefined),
    deps.hosts.findBySerial(serial),
  ]);
  const out = decideEnrollment({
    settings: deps.enrollment,
    serial,
    hardwareUuid,
    now,
    rejected,
    cert,
    revoked: (sha) => deps.revoked(sha),
    inventory,
    existing,
  });
  // a new pending record counts against the cap (a re-enrollment of one already there does not)
  if (out.kind === 'enroll' && out.mayBePending && !out.same) {
    if ((await deps.hosts.countPending()) >= deps.enrollment.pendingMax) {
      const message = 'too many devices are waiting for approval; ask an administrator, then retry';
      return { gate: { kind: 'refuse', reason: 'pending_full', message }, existing };
    }
  }
  return { gate: out, existing };
}

/** Someone without an established device's certificate tried to enroll its serial: the team hears of it. */
function reportRefusal(
  deps: EnrollDeps,
  body: EnrollBody,
  facts: { serial: string; hardwareUuid: string; hostname: string },
  gate: Extract<GateOutcome, { kind: 'refuse' }>,
  existing: readonly Host[],
): void {
  const established = existing.filter((h) => h.enrollState === 'active');
  if (!established.length || (gate.reason !== 'certificate' && gate.reason !== 'certificate_not_bound')) return;
  deps.devices.deviceEvent({
    type: 'device.enroll_refused',
    serial: facts.serial,
    hardwareUuid: facts.hardwareUuid,
    hostname: facts.hostname || body.host_identifier,
    why: gate.message,
    established,
  });
}

/** Audits what the enrollment means for the device's identity (conflict, active re-enrollment, binding). */
function report(deps: EnrollDeps, gate: Extract<GateOutcome, { kind: 'enroll' }>, outcome: EnrollOutcome): void {
  const { host } = outcome;
  if (host.enrollState === 'pending' && host.pendingReason && host.pendingReason !== 'unknown_serial') {
    deps.devices.deviceEvent({
      type: 'device.enroll_conflict',
      host,
      reason: host.pendingReason,
      established: outcome.conflictWith,
      ...(host.pendingReason === 'inventory_mismatch' ? { inventoryUuid: gate.inventoryUuid } : {}),
    });
  }
  if (gate.reenrolledActive && gate.same) {
    deps.devices.deviceEvent({ type: 'device.reenrolled', host, previousSeenAt: gate.same.lastSeenAt });
  }
  if (gate.cert && gate.cert.sha256 !== gate.same?.cert?.sha256) {
    const type = gate.replacesCert ? 'device.cert_rebound' : 'device.cert_bound';
    deps.devices.deviceEvent({ type, host, from: gate.replacesCert ?? gate.same?.cert ?? null, to: gate.cert });
  }
}

export async function enroll(
  deps: EnrollDeps,
  body: EnrollBody,
  cert: PresentedCert | null = null,
): Promise<{ nodeKey: string; host: Host }> {
  const now = deps.clock.now();
  const matched = await matchingSecret(deps, body, now);
  const facts = enrollFacts(body);
  if (!facts.serial)
    throw invalid(
      'enroll request has no usable device identity (host_identifier, system_info.uuid or hardware_serial)',
    );
  const { gate, existing } = await decide(deps, facts, cert, now);
  if (gate.kind === 'refuse') {
    reportRefusal(deps, body, facts, gate, existing);
    deps.log.warn(
      { event: 'host.enroll_refused', serial: facts.serial, hardwareUuid: facts.hardwareUuid, reason: gate.reason },
      `enroll refused: ${gate.message}`,
    );
    deps.metrics?.enrollRefused.inc({ reason: gate.reason });
    if (gate.reason === 'pending_full') throw unavailable(gate.message);
    throw forbidden(`enrollment refused: ${gate.message}`);
  }
  const nodeKey = randomSecret(32);
  const outcome = await deps.hosts.enroll({
    ...facts,
    nodeKeyHash: sha256Hex(nodeKey),
    enrollSecretName: matched,
    at: now,
    state: gate.state,
    pendingReason: gate.pendingReason,
    ...(gate.cert ? { cert: gate.cert } : {}),
  });
  if (outcome.revokedNodeKeyHash) deps.nodeKeys.delete(outcome.revokedNodeKeyHash);
  const { host } = outcome;
  if (gate.bindsInventoryUuid && host.enrollState === 'active') {
    await deps.inventory.bindHardwareUuid(host.serial, host.hardwareUuid, now);
  }
  deps.log.info(
    {
      event: 'host.enrolled',
      serial: host.serial,
      hostId: host.id,
      platform: host.platform,
      reenrolled: outcome.reenrolled,
      secret: matched,
      state: host.enrollState,
      pendingReason: host.pendingReason,
    },
    host.enrollState === 'pending' ? 'host enrolled, pending approval' : 'host enrolled',
  );
  report(deps, gate, outcome);
  await deps.onEnrolled(host, outcome.reenrolled);
  return { nodeKey, host };
}
