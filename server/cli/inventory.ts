/**
 * `trustgate devices …`: the device inventory (import an MDM or asset export, list, remove), devices held
 * pending (list, approve, reject) and enrollment rejections (list, clear), on the server's store, audited as
 * the CLI's user. The running server picks up approvals and rejections within 2 seconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import type { Host } from '../domain/types.js';
import { formatOf, type InventoryFormat } from '../devices/inventory-file.js';
import { pendingReasonText } from '../devices/events.js';
import { isoOf } from '../shared/clock.js';
import { invalid } from '../shared/errors.js';
import { table, type Args } from './args.js';
import { actor, need, out, UsageError } from './command.js';
import { openDeviceAdmin } from './device-admin.js';

export const DEVICES_HELP = `  devices import FILE [--dry-run] [--replace] [--format csv|json]
                                      import the device inventory (all rows or none; bad rows by line)
  devices list [--search S]           the inventory
  devices remove SERIAL               remove a device from the inventory
  devices pending                     devices waiting for approval (with their host ID)
  devices approve ID | reject ID      decide on a pending device (audited; the server applies it within 2 s)
  devices rejections                  rejected (serial, hardware UUID) pairs
  devices clear-rejection SERIAL [--uuid U]   let a rejected device enroll again`;

const json = (a: Args): boolean => a.bools.has('json');

function hostId(a: Args): number {
  const id = Number(need(a, 2, 'host ID (see "trustgate devices pending")'));
  if (!Number.isInteger(id) || id < 1) throw new UsageError('a host ID is a positive integer');
  return id;
}

const pendingRow = (h: Host) => [
  h.id,
  h.serial,
  h.hardwareUuid,
  h.hostname,
  h.pendingReason ?? '',
  isoOf(h.enrolledAt),
  isoOf(h.lastSeenAt),
];

async function importCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const file = need(a, 2, 'inventory FILE (CSV with a header row, or JSON)');
  const fmt = a.flags.format;
  if (fmt !== undefined && fmt !== 'csv' && fmt !== 'json') throw new UsageError('--format must be csv or json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(`cannot read ${file}: ${(e as Error).message}`);
  }
  const format: InventoryFormat = fmt ?? formatOf(file, text);
  const admin = await openDeviceAdmin(cfg);
  try {
    const dryRun = a.bools.has('dry-run');
    const r = await admin.devices.service.importInventory(
      { text, format, source: path.basename(file), dryRun, replace: a.bools.has('replace') },
      actor(),
    );
    if (json(a)) out(JSON.stringify({ ...r, dry_run: dryRun }));
    else
      out(
        `${dryRun ? 'Dry run: would import' : 'Imported'} ${r.rows} device(s) from ${file}: ${r.added} new, ` +
          `${r.updated} updated, ${r.unchanged} unchanged${a.bools.has('replace') ? `, ${r.removed} removed` : ''}.`,
      );
    return 0;
  } finally {
    await admin.close();
  }
}

async function listCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const admin = await openDeviceAdmin(cfg);
  try {
    const list = await admin.store.inventory.list(a.flags.search ? { search: a.flags.search } : {});
    if (json(a)) out(JSON.stringify(list));
    else {
      const rows = list.map((d) => [d.serial, d.hardwareUuid ?? '(first enrollment)', d.owners.join(' '), d.assetTag]);
      out(table(['SERIAL', 'HARDWARE UUID', 'OWNERS', 'ASSET TAG'], rows));
      out(`${list.length} device(s)`);
    }
    return 0;
  } finally {
    await admin.close();
  }
}

async function decideCmd(a: Args, cfg: Readonly<Config>, what: 'approve' | 'reject'): Promise<number> {
  const id = hostId(a);
  const admin = await openDeviceAdmin(cfg, { withEngine: what === 'approve' });
  try {
    if (what === 'approve') {
      const { host, replaced } = await admin.devices.service.approve(id, actor());
      if (json(a)) out(JSON.stringify({ approved: host, replaced }));
      else {
        out(`Approved host ${id} (${host.serial}, ${host.hardwareUuid}); its checks are queued as a recheck.`);
        for (const r of replaced) out(`Unenrolled the device it replaces: host ${r.id} (${r.hardwareUuid}).`);
      }
    } else {
      const host = await admin.devices.service.reject(id, actor());
      if (json(a)) out(JSON.stringify({ rejected: host }));
      else out(`Rejected host ${id} (${host.serial}, ${host.hardwareUuid}): it is refused from now on.`);
    }
    return 0;
  } finally {
    await admin.close();
  }
}

async function pendingCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const admin = await openDeviceAdmin(cfg);
  try {
    const hosts = await admin.devices.service.pending();
    if (json(a)) out(JSON.stringify(hosts));
    else {
      out(
        table(['ID', 'SERIAL', 'HARDWARE UUID', 'HOSTNAME', 'REASON', 'ENROLLED', 'LAST SEEN'], hosts.map(pendingRow)),
      );
      const reasons = [...new Set(hosts.flatMap((h) => (h.pendingReason ? [h.pendingReason] : [])))];
      for (const r of reasons) out(`  ${r}: ${pendingReasonText(r)}`);
      out(`${hosts.length} device(s) waiting; decide with "trustgate devices approve|reject ID"`);
    }
    return 0;
  } finally {
    await admin.close();
  }
}

async function rejectionsCmd(a: Args, cfg: Readonly<Config>, sub: string): Promise<number> {
  const admin = await openDeviceAdmin(cfg);
  try {
    if (sub === 'clear-rejection') {
      const serial = need(a, 2, 'SERIAL');
      const n = await admin.devices.service.clearRejection(serial, a.flags.uuid, actor());
      out(json(a) ? JSON.stringify({ cleared: n }) : `Cleared ${n} rejection(s) of ${serial}.`);
      return 0;
    }
    const list = await admin.store.rejections.list();
    if (json(a)) out(JSON.stringify(list));
    else
      out(
        table(
          ['SERIAL', 'HARDWARE UUID', 'REJECTED', 'BY'],
          list.map((r) => [r.serial, r.hardwareUuid, isoOf(r.rejectedAt), r.rejectedBy]),
        ),
      );
    return 0;
  } finally {
    await admin.close();
  }
}

export async function devicesCmd(a: Args, cfg: Readonly<Config>): Promise<number> {
  const sub = need(a, 1, 'devices subcommand (import|list|remove|pending|approve|reject|rejections)');
  switch (sub) {
    case 'import':
      return importCmd(a, cfg);
    case 'list':
      return listCmd(a, cfg);
    case 'remove': {
      const serial = need(a, 2, 'SERIAL');
      const admin = await openDeviceAdmin(cfg);
      try {
        await admin.devices.service.removeInventory(serial, actor());
        out(json(a) ? JSON.stringify({ removed: serial }) : `Removed ${serial} from the device inventory.`);
        return 0;
      } finally {
        await admin.close();
      }
    }
    case 'pending':
      return pendingCmd(a, cfg);
    case 'approve':
    case 'reject':
      return decideCmd(a, cfg, sub);
    case 'rejections':
    case 'clear-rejection':
      return rejectionsCmd(a, cfg, sub);
    default:
      throw new UsageError(`unknown devices subcommand "${sub}"`);
  }
}
