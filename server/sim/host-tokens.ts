/**
 * Per-host values inside shared profile tables. Hosts of one profile share one SQLite database, so a
 * value that differs per host (serial, UUID, hostname, …) is stored as a token and replaced, for each
 * host, by its own value (`identityValue`). Also the row type the profile tables are written in.
 */
import type { HostIdentity } from './identity.js';

/** A table row as the simulator writes it: column → value (numbers stored as numbers, read back as strings). */
export type TableRow = Record<string, string | number>;

/** Marker that starts a per-host token. Values equal to a token are replaced by the host's own value. */
export const TOKEN_MARK = '\u0001';
export const tok = (name: string): string => TOKEN_MARK + name;

/** The value of a token for one host; undefined if the string is not a token. */
export function identityValue(id: HostIdentity, token: string): string | undefined {
  switch (token.slice(1)) {
    case 'serial':
      return id.serial;
    case 'uuid':
      return id.uuid;
    case 'instance_id':
      return id.instanceId;
    case 'hostname':
      return id.hostname;
    case 'computer_name':
      return id.computerName;
    case 'local_hostname':
      return id.localHostname;
    case 'vendor':
      return id.vendor;
    case 'model':
      return id.model;
    case 'hardware_version':
      return id.hardwareVersion;
    case 'board_serial':
      return id.boardSerial;
    case 'cpu_brand':
      return id.cpuBrand;
    case 'cpu_type':
      return id.cpuType;
    case 'cpu_subtype':
      return id.cpuSubtype;
    case 'physical_cores':
      return String(id.physicalCores);
    case 'logical_cores':
      return String(id.logicalCores);
    case 'physical_memory':
      return id.physicalMemory;
    case 'arch':
      return id.arch;
    case 'osquery_version':
      return id.osqueryVersion;
    case 'pid':
      return String(id.pid);
    case 'watcher':
      return String(id.pid - 1);
    case 'fw_vendor':
      return id.firmware.vendor;
    case 'fw_version':
      return id.firmware.version;
    case 'fw_date':
      return id.firmware.date;
    case 'fw_revision':
      return id.firmware.revision;
    case 'fw_extra':
      return id.firmware.extra;
    case 'fw_address':
      return id.firmware.address;
    case 'fw_size':
      return id.firmware.size;
    case 'fw_volume_size':
      return id.firmware.volumeSize;
    case 'fw_type':
      return id.firmware.firmwareType;
    case 'username':
      return id.hostname.split(/[-.]/)[0] ?? 'user';
    default:
      return undefined;
  }
}
