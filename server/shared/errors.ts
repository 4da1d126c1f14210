/**
 * The closed family of application errors. Handlers and services throw these with a *code*, never an
 * HTTP status: the one code → status table is in http/errors.ts, and each surface (osquery, the JSON
 * APIs, the pages) renders its own body from the code and the message.
 */
export type ErrorCode =
  | 'invalid' // malformed or wrongly typed input
  | 'unauthenticated' // missing/unknown credentials (osquery: node_invalid)
  | 'forbidden' // authenticated but not allowed (role, policy refusal, a forged link)
  | 'not_found'
  | 'method_not_allowed' // the path exists, the method does not
  | 'conflict' // state conflict, duplicate, policy limit reached, a cool-down not over
  | 'expired' // was valid, is no longer (a signed link past its expiry)
  | 'too_large' // body over the configured limit
  | 'rate_limited' // too many failed attempts from this client or with this credential: retry later
  | 'unavailable'; // temporarily unable (queue full, store busy, too many live channels): retry later

export interface AppErrorOptions {
  cause?: unknown;
  /** When a retry can succeed, in seconds (a cool-down, a full queue): sent as `Retry-After`. */
  retryAfterS?: number;
  /** The methods the path takes (method_not_allowed): sent as `Allow`. */
  allow?: readonly string[];
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly retryAfterS: number | undefined;
  readonly allow: readonly string[] | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterS = options.retryAfterS;
    this.allow = options.allow;
  }
}

export const invalid = (message: string, details?: unknown) => new AppError('invalid', message, details);
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) => new AppError('conflict', message, details);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const unauthenticated = (message: string) => new AppError('unauthenticated', message);
export const unavailable = (message: string, options?: AppErrorOptions) =>
  new AppError('unavailable', message, undefined, options);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** The message of any thrown value, for logs (never sent to clients for 5xx). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
