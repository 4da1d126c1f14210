/**
 * The structured logger (pino): one root per process, children per component, secrets redacted by
 * path (node keys, enroll secrets, tokens, authorization headers), every field bounded (see `boundForLog`)
 * so that a request cannot make one log line as large as its body.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

/** Paths that may carry secrets: never logged. */
export const REDACT_PATHS = [
  'node_key',
  '*.node_key',
  'enroll_secret',
  '*.enroll_secret',
  'token',
  '*.token',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
];

/** Limits on what one log line may carry: fields from requests are bounded here, once, for every log call. */
export const LOG_LIMITS = {
  /** Longest string value (and message) kept; the rest is cut and replaced by a note of how much was cut. */
  stringChars: 1024,
  /** Longest error stack kept. */
  stackChars: 4096,
  /** Items kept of an array, keys kept of an object. */
  items: 32,
  /** Nesting kept; deeper values become "[nested]". */
  depth: 6,
} as const;

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…[${s.length - max} more chars]` : s;
}

/** A copy of a log value with every string, array, object and nesting level bounded (errors kept readable). */
export function boundForLog(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cut(value, LOG_LIMITS.stringChars);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= LOG_LIMITS.depth) return '[nested]';
  if (value instanceof Error) {
    const err: Record<string, unknown> = { type: value.name, message: cut(value.message, LOG_LIMITS.stringChars) };
    if (value.stack) err.stack = cut(value.stack, LOG_LIMITS.stackChars);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) err.code = boundForLog(code, depth + 1);
    return err;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, LOG_LIMITS.items).map((v) => boundForLog(v, depth + 1));
    if (value.length > LOG_LIMITS.items) kept.push(`…[${value.length - LOG_LIMITS.items} more items]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const k of keys.slice(0, LOG_LIMITS.items)) {
    out[cut(k, LOG_LIMITS.stringChars)] = boundForLog((value as Record<string, unknown>)[k], depth + 1);
  }
  if (keys.length > LOG_LIMITS.items) out['…'] = `${keys.length - LOG_LIMITS.items} more keys`;
  return out;
}

/** The one root logger; everything else gets a child. */
export function createLogger(level: LogLevel = 'info', dest?: DestinationStream): Logger {
  const opts = {
    level,
    base: { service: 'trustgate' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { log: (obj: Record<string, unknown>) => boundForLog(obj, -1) as Record<string, unknown> },
    hooks: {
      logMethod(this: PinoLogger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? cut(a, LOG_LIMITS.stringChars) : a)),
        );
      },
    },
  };
  return dest ? pino(opts, dest) : pino(opts);
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

/**
 * The server's logger: asynchronous, buffered writes to stdout so a decision log line costs a memory
 * copy, not a write(2) on the request path. `flush()` on shutdown.
 */
export function createServerLogger(level: LogLevel = 'info'): { log: Logger; flush(): void } {
  const dest = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  const log = createLogger(level, dest);
  const timer = setInterval(() => dest.flush(), 250);
  timer.unref();
  return {
    log,
    flush: () => {
      clearInterval(timer);
      try {
        dest.flushSync();
      } catch {
        /* stdout closed */
      }
    },
  };
}
