/** ajv schemas for the bodies the break-glass API accepts (a request, an admin decision). */
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { DURATION_PATTERN } from '../shared/duration.js';
import { invalid } from '../shared/errors.js';

const ajv = new Ajv({ allErrors: true });

export interface BreakGlassBody {
  serial?: string;
  user?: string;
  resource?: string;
  reason: string;
  duration: string;
  token?: string;
  idempotency_key?: string;
}

export interface DecisionBody {
  comment?: string;
}

const str = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max }) as const;
const optStr = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max, nullable: true }) as const;

const breakGlassBodySchema: JSONSchemaType<BreakGlassBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['reason', 'duration'],
  properties: {
    serial: optStr(200),
    user: optStr(320),
    resource: optStr(200),
    reason: str(2000),
    duration: { type: 'string', pattern: DURATION_PATTERN, maxLength: 20 },
    token: optStr(4096),
    idempotency_key: optStr(100),
  },
};

const decisionBodySchema: JSONSchemaType<DecisionBody> = {
  type: 'object',
  additionalProperties: false,
  properties: { comment: optStr(2000, 0) },
};

export const breakGlassBody = ajv.compile(breakGlassBodySchema);
export const decisionBody = ajv.compile(decisionBodySchema);

/** Validates `input` or throws AppError('invalid') naming the problems. */
export function parse<T>(v: ValidateFunction<T>, input: unknown, what = 'body'): T {
  if (v(input)) return input;
  throw invalid(`invalid ${what}: ${ajv.errorsText(v.errors, { dataVar: what })}`);
}
