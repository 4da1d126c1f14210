/** Admin API bodies: strict (unknown keys rejected), validated once at the edge. */
import { Ajv, type ValidateFunction } from 'ajv';
import { invalid } from '../shared/errors.js';
import { DURATION_PATTERN } from '../shared/duration.js';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });

export interface TokenCreateBody {
  name: string;
  role: 'admin' | 'gateway' | 'viewer';
}
export const tokenCreateBody = ajv.compile<TokenCreateBody>({
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, role: { enum: ['admin', 'gateway', 'viewer'] } },
});

export interface SecretCreateBody {
  name: string;
  expires_in?: string;
}
export const secretCreateBody = ajv.compile<SecretCreateBody>({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    expires_in: { type: 'string', pattern: DURATION_PATTERN },
  },
});

export interface LiveQueryBody {
  sql: string;
  serials?: string[];
  platform?: string;
}
export const liveQueryBody = ajv.compile<LiveQueryBody>({
  type: 'object',
  additionalProperties: false,
  required: ['sql'],
  properties: {
    sql: { type: 'string', minLength: 1, maxLength: 100_000 },
    serials: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 10_000 },
    platform: { enum: ['darwin', 'windows', 'linux', 'freebsd'] },
  },
});

export interface PolicyBody {
  text?: string;
  format?: 'yaml' | 'json';
  policy?: Record<string, unknown>;
}
export const policyBody = ajv.compile<PolicyBody>({
  type: 'object',
  additionalProperties: false,
  properties: {
    text: { type: 'string', maxLength: 1_000_000 },
    format: { enum: ['yaml', 'json'] },
    policy: { type: 'object' },
  },
  oneOf: [{ required: ['text'] }, { required: ['policy'] }],
});

export function parseBody<T>(v: ValidateFunction<T>, input: unknown, what: string): T {
  if (v(input)) return input;
  throw invalid(`invalid ${what}: ${ajv.errorsText(v.errors, { dataVar: 'body' })}`, v.errors);
}
