/** ajv schemas for the remediation page's form posts (recheck, emergency access, cancel). */
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true });

export interface LinkForm {
  t: string;
  csrf: string;
}

export interface BreakGlassForm extends LinkForm {
  reason?: string;
  duration?: string;
  idempotency_key?: string;
}

export interface CancelForm extends LinkForm {
  id: string;
}

const str = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max }) as const;
const optStr = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max, nullable: true }) as const;

const linkFormSchema: JSONSchemaType<LinkForm> = {
  type: 'object',
  additionalProperties: true,
  required: ['t', 'csrf'],
  properties: { t: str(4096), csrf: str(100) },
};

const breakGlassFormSchema: JSONSchemaType<BreakGlassForm> = {
  type: 'object',
  additionalProperties: false,
  required: ['t', 'csrf'],
  properties: {
    t: str(4096),
    csrf: str(100),
    reason: optStr(2000, 0),
    duration: optStr(20, 0),
    idempotency_key: optStr(100),
  },
};

const cancelFormSchema: JSONSchemaType<CancelForm> = {
  type: 'object',
  additionalProperties: false,
  required: ['t', 'csrf', 'id'],
  properties: { t: str(4096), csrf: str(100), id: str(100) },
};

export const linkForm = ajv.compile(linkFormSchema);
export const breakGlassForm = ajv.compile(breakGlassFormSchema);
export const cancelForm = ajv.compile(cancelFormSchema);

/** True when `input` is a valid T (the routes answer an incomplete form with the "link doesn't work" page). */
export function check<T>(v: ValidateFunction<T>, input: unknown): input is T {
  return v(input);
}
