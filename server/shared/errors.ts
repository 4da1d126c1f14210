/**
 * The closed family of application errors. Domain code throws these with a *code*; the one table of
 * HTTP statuses is HTTP_STATUS below (used by http/errors.ts and the people pages), and each surface
 * (osquery, admin, gateway, people) renders its own body.
 */
export type ErrorCode =
  | 'invalid' // malformed or wrongly typed input
  | 'unauthenticated' // missing/unknown credentials (osquery: node_invalid)
  | 'forbidden' // authenticated but not allowed (role, policy refusal)
  | 'not_found'
  | 'method_not_allowed' // the path exists, the method does not
  | 'conflict' // state conflict, duplicate, policy limit reached
  | 'too_large' // body over the configured limit
  | 'unavailable'; // temporarily unable (queue full, store busy): retry later

/** The only code → HTTP status table. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, method_not_allowed: 405, conflict: 409, too_large: 413, unavailable: 503,
};

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalid = (message: string, details?: unknown) => new AppError('invalid', message, details);
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new AppError('conflict', message, details);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const unauthenticated = (message: string) => new AppError('unauthenticated', message);
export const unavailable = (message: string) => new AppError('unavailable', message);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** The message of any thrown value, for logs (never sent to clients for 5xx). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
