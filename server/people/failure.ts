/**
 * The remediation page's failures as typed errors. Routes throw a PageError; its code picks the status
 * (the one table, http/errors.ts) and its problem picks what the person sees (routes.ts renderFailure):
 * a link that does not work (no data at all, not even whether the device exists), an expired link (a way
 * back, and the text they had typed), or the page itself again with the emergency-access form's field
 * errors or its refusal.
 */
import { AppError, type AppErrorOptions, type ErrorCode } from '../shared/errors.js';
import type { DeviceLink } from './link.js';
import type { FormState } from './render.js';

export type PageProblem =
  | { kind: 'bad_link' }
  | { kind: 'expired'; link: DeviceLink; typed?: string }
  | { kind: 'form'; link: DeviceLink; token: string; form: FormState };

export class PageError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly problem: PageProblem,
    options?: AppErrorOptions,
  ) {
    super(code, message, undefined, options);
  }
}

/** A link or form the page cannot use: the same page whatever the reason, and no data. */
export const badLink = (code: 'invalid' | 'forbidden' | 'not_found', message: string): PageError =>
  new PageError(code, message, { kind: 'bad_link' });
