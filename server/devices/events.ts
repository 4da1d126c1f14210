/**
 * Device-identity events as the audit log records them and as the webhook announces them: enrollment
 * conflicts (held pending), re-enrollments of active devices, certificate (re)bindings, approvals and
 * rejections. Slack-compatible messages ({text, blocks}); what the reporter typed is escaped.
 */
import type { AuditEvent, DeviceEvent } from '../domain/ports.js';
import type { CertBinding, Host, PendingReason } from '../domain/types.js';
import { escapeMrkdwn } from '../shared/escape.js';

export interface WebhookMessage {
  text: string;
  blocks?: unknown[];
}

const REASONS: Record<PendingReason, string> = {
  serial_conflict: 'another machine already enrolled with this serial',
  inventory_mismatch: 'its hardware UUID is not the one in the device inventory',
  unknown_serial: 'the serial is not in the device inventory',
};

export const pendingReasonText = (r: PendingReason): string => REASONS[r];

const hostData = (h: Host) => ({
  host_id: h.id,
  hardware_uuid: h.hardwareUuid,
  hostname: h.hostname,
  platform: h.platform,
  enroll_secret: h.enrollSecretName,
});

const certData = (c: CertBinding | null) =>
  c ? { sha256: c.sha256, sha1: c.sha1, serial: c.serial, not_after: new Date(c.notAfter).toISOString() } : null;

/** The audit entry of an event the osquery surface reported (actor: the host). */
export function auditOf(e: DeviceEvent): AuditEvent {
  if (e.type === 'device.enroll_refused') {
    return {
      type: 'device.enroll_conflict',
      actor: `host:${e.serial}`,
      serial: e.serial,
      data: {
        refused: true,
        why: e.why,
        hardware_uuid: e.hardwareUuid,
        hostname: e.hostname,
        established: e.established.map((h) => ({ host_id: h.id, hardware_uuid: h.hardwareUuid, hostname: h.hostname })),
      },
    };
  }
  const base = { actor: `host:${e.host.serial}`, serial: e.host.serial };
  switch (e.type) {
    case 'device.enroll_conflict':
      return {
        ...base,
        type: e.type,
        data: {
          ...hostData(e.host),
          reason: e.reason,
          established: e.established.map((h) => ({
            host_id: h.id,
            hardware_uuid: h.hardwareUuid,
            hostname: h.hostname,
          })),
          ...(e.inventoryUuid !== undefined ? { inventory_hardware_uuid: e.inventoryUuid } : {}),
        },
      };
    case 'device.reenrolled':
      return {
        ...base,
        type: e.type,
        data: { ...hostData(e.host), previous_seen_at: new Date(e.previousSeenAt).toISOString() },
      };
    case 'device.cert_bound':
    case 'device.cert_rebound':
      return { ...base, type: e.type, data: { host_id: e.host.id, from: certData(e.from), to: certData(e.to) } };
  }
}

function message(head: string, fields: string[], kind: string): WebhookMessage {
  return {
    text: head,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      { type: 'section', text: { type: 'mrkdwn', text: fields.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Trustgate device identity · ${kind}` }] },
    ],
  };
}

const device = (h: Host): string =>
  `*Device:* ${escapeMrkdwn(h.serial)}   *Hardware UUID:* ${escapeMrkdwn(h.hardwareUuid)}   ` +
  `*Hostname:* ${escapeMrkdwn(h.hostname)}`;

/** The webhook message of an event, or undefined for one that is only audited (a first binding). */
export function messageOf(e: DeviceEvent): WebhookMessage | undefined {
  if (e.type === 'device.enroll_refused') {
    return message(
      `:no_entry: Enrollment of ${escapeMrkdwn(e.serial)} refused: ${escapeMrkdwn(e.why)}`,
      [
        `*Presented hardware UUID:* ${escapeMrkdwn(e.hardwareUuid)}   *Hostname:* ${escapeMrkdwn(e.hostname)}`,
        ...e.established.map(
          (h) => `*Established device:* ${escapeMrkdwn(h.hardwareUuid)} (${escapeMrkdwn(h.hostname)}) keeps its access`,
        ),
      ],
      'enroll_refused',
    );
  }
  const serial = escapeMrkdwn(e.host.serial);
  switch (e.type) {
    case 'device.enroll_conflict':
      return message(
        `:warning: Enrollment of ${serial} held for approval: ${pendingReasonText(e.reason)}`,
        [
          device(e.host),
          ...e.established.map(
            (h) =>
              `*Established device:* ${escapeMrkdwn(h.hardwareUuid)} (${escapeMrkdwn(h.hostname)}) keeps its access`,
          ),
          '*Decide:* `trustgate devices pending`, then `trustgate devices approve|reject ID`',
        ],
        'enroll_conflict',
      );
    case 'device.reenrolled':
      return message(
        `:arrows_counterclockwise: ${serial} enrolled again while active ` +
          `(last seen ${new Date(e.previousSeenAt).toISOString()})`,
        [device(e.host), 'If the device was not reinstalled, someone else may hold its enroll secret and identity.'],
        'reenrolled',
      );
    case 'device.cert_rebound':
      return message(
        `:key: ${serial} is bound to a renewed client certificate`,
        [device(e.host), `*Certificate:* ${e.to.sha256.slice(0, 16)}… (serial ${e.to.serial})`],
        'cert_rebound',
      );
    case 'device.cert_bound':
      return undefined;
  }
}

/** The webhook message of an admin's decision on a pending device. */
export function decisionMessage(kind: 'approved' | 'rejected', h: Host, actor: string): WebhookMessage {
  const head =
    kind === 'approved'
      ? `:white_check_mark: ${escapeMrkdwn(h.serial)} approved by ${escapeMrkdwn(actor)}`
      : `:no_entry: ${escapeMrkdwn(h.serial)} rejected by ${escapeMrkdwn(actor)}`;
  return message(head, [device(h)], kind);
}
