/**
 * The osquery wire shapes (snake_case lives only here), validated with ajv at the edge. osquery bodies
 * allow extra properties (newer agents add fields). Numbers may arrive as strings (older agents) and
 * empty arrays as "" (pre-3.x ptree serializer): the schemas accept both and `normalize.ts` converts.
 */
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import { AppError } from '../shared/errors.js';

const ajv = new Ajv({ allErrors: false, strict: false });

const numLike = { type: ['integer', 'number', 'string'] } as const;
const stringMap = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } } as const;
const rowList = {
  anyOf: [
    { type: 'array', items: { type: 'object' } },
    { type: 'string', maxLength: 0 },
  ],
} as const;

export interface EnrollBody {
  enroll_secret: string;
  host_identifier: string;
  platform_type?: string | number;
  host_details?: Record<string, Record<string, string | number | boolean | null>>;
  node_key?: string;
}

export const enrollBody = ajv.compile<EnrollBody>({
  type: 'object',
  required: ['enroll_secret', 'host_identifier'],
  properties: {
    enroll_secret: { type: 'string' },
    host_identifier: { type: 'string' },
    platform_type: { type: ['string', 'integer'] },
    host_details: { type: 'object', additionalProperties: stringMap },
  },
});

export interface NodeKeyBody {
  node_key?: string;
}
export const nodeKeyBody = ajv.compile<NodeKeyBody>({ type: 'object', properties: { node_key: { type: 'string' } } });

export interface LogBody {
  node_key?: string;
  log_type: 'result' | 'status' | 'snapshot';
  data: unknown[] | '';
}
export const logBody = ajv.compile<LogBody>({
  type: 'object',
  required: ['log_type', 'data'],
  properties: {
    node_key: { type: 'string' },
    log_type: { enum: ['result', 'status', 'snapshot'] },
    data: {
      anyOf: [
        { type: 'array', items: { type: 'object' } },
        { type: 'string', maxLength: 0 },
      ],
    },
  },
});

/** One result log line, in one of the four shapes (event, batched, snapshot, snapshot-as-events). */
export interface ResultLine {
  name: string;
  hostIdentifier?: string;
  unixTime?: number | string;
  epoch?: number | string;
  counter?: number | string;
  action?: string;
  columns?: Record<string, unknown>;
  diffResults?: { added?: Array<Record<string, unknown>> | ''; removed?: Array<Record<string, unknown>> | '' };
  snapshot?: Array<Record<string, unknown>> | '';
}
export const resultLine = ajv.compile<ResultLine>({
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    unixTime: numLike,
    epoch: numLike,
    counter: numLike,
    action: { type: 'string' },
    columns: { type: 'object' },
    diffResults: { type: 'object', properties: { added: rowList, removed: rowList } },
    snapshot: rowList,
  },
  anyOf: [{ required: ['columns'] }, { required: ['diffResults'] }, { required: ['snapshot'] }],
});

export interface StatusLine {
  unixTime?: number | string;
  severity?: number | string;
  filename?: string;
  line?: number | string;
  message?: string;
  version?: string;
}
export const statusLine = ajv.compile<StatusLine>({
  type: 'object',
  properties: {
    unixTime: numLike,
    severity: numLike,
    filename: { type: 'string' },
    line: numLike,
    message: { type: 'string' },
    version: { type: 'string' },
  },
});

export interface DistributedWriteBody {
  node_key?: string;
  queries: Record<string, Array<Record<string, unknown>> | ''>;
  statuses?: Record<string, number | string>;
  messages?: Record<string, string>;
  stats?: Record<string, unknown>;
}
export const distributedWriteBody = ajv.compile<DistributedWriteBody>({
  type: 'object',
  required: ['queries'],
  properties: {
    node_key: { type: 'string' },
    queries: { type: 'object', additionalProperties: rowList },
    statuses: { type: 'object', additionalProperties: numLike },
    messages: { type: 'object', additionalProperties: { type: 'string' } },
    stats: { type: 'object' },
  },
});

export interface CarveBeginBody {
  node_key?: string;
  block_count: number | string;
  block_size: number | string;
  carve_size: number | string;
  carve_id: string;
  request_id?: string;
}
export const carveBeginBody = ajv.compile<CarveBeginBody>({
  type: 'object',
  required: ['block_count', 'block_size', 'carve_size', 'carve_id'],
  properties: {
    node_key: { type: 'string' },
    block_count: numLike,
    block_size: numLike,
    carve_size: numLike,
    carve_id: { type: 'string', minLength: 1, maxLength: 256 },
    request_id: { type: 'string', maxLength: 256 },
  },
});

export interface CarveBlockBody {
  block_id: number | string;
  session_id: string;
  request_id?: string;
  data: string;
}
export const carveBlockBody = ajv.compile<CarveBlockBody>({
  type: 'object',
  required: ['block_id', 'session_id', 'data'],
  properties: {
    block_id: numLike,
    session_id: { type: 'string', minLength: 1 },
    request_id: { type: 'string' },
    data: { type: 'string' },
  },
});

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid body';
  const where = e.instancePath || '(body)';
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Validates `input` or throws AppError('invalid') naming the first problem. */
export function parse<T>(v: ValidateFunction<T>, input: unknown, what: string): T {
  if (v(input)) return input;
  throw new AppError('invalid', `invalid ${what}: ${describe(v.errors)}`);
}
