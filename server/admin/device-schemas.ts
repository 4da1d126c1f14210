/** Admin API bodies of the device routes (inventory import, certificates): strict, validated at the edge. */
import { Ajv } from 'ajv';
import { parseBody } from './schemas.js';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });

const SERIAL = { type: 'string', minLength: 1, maxLength: 256 } as const;

export interface InventoryImportBody {
  /** The file's content (CSV with a header row, or JSON). */
  text: string;
  format?: 'csv' | 'json';
  /** Recorded as the rows' source (e.g. the export's file name); default `api`. */
  source?: string;
  dry_run?: boolean;
  replace?: boolean;
}
export const inventoryImportBody = ajv.compile<InventoryImportBody>({
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    text: { type: 'string', maxLength: 64 * 1024 * 1024 },
    format: { enum: ['csv', 'json'] },
    source: { type: 'string', minLength: 1, maxLength: 200 },
    dry_run: { type: 'boolean' },
    replace: { type: 'boolean' },
  },
});

export interface CertIssueBody {
  serial: string;
  days?: number;
  pkcs12_password?: string;
}
export const certIssueBody = ajv.compile<CertIssueBody>({
  type: 'object',
  additionalProperties: false,
  required: ['serial'],
  properties: {
    serial: SERIAL,
    days: { type: 'integer', minimum: 1, maximum: 3650 },
    pkcs12_password: { type: 'string', minLength: 8, maxLength: 200 },
  },
});

export interface CertRevokeBody {
  serial?: string;
  sha256?: string;
  reason?: string;
}
export const certRevokeBody = ajv.compile<CertRevokeBody>({
  type: 'object',
  additionalProperties: false,
  properties: {
    serial: SERIAL,
    sha256: { type: 'string', minLength: 64, maxLength: 100 },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
  oneOf: [{ required: ['serial'] }, { required: ['sha256'] }],
});

export { parseBody };

export interface AccountMappingBody {
  /** The local account name as osquery reports it (`logged_in_users.user`). */
  account: string;
  /** The person's SSO e-mail address. */
  person: string;
  /** The device it applies to; absent or null: every device. */
  serial?: string | null;
}
export const accountMappingBody = ajv.compile<AccountMappingBody>({
  type: 'object',
  additionalProperties: false,
  required: ['account', 'person'],
  properties: {
    account: { type: 'string', minLength: 1, maxLength: 256 },
    person: { type: 'string', minLength: 3, maxLength: 256 },
    serial: { anyOf: [SERIAL, { type: 'null' }] },
  },
});
