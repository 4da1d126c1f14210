/**
 * The structured logger (pino): one root per process, children per component, secrets redacted by
 * path (node keys, enroll secrets, tokens, authorization headers).
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

/** The one root logger; everything else gets a child. */
export function createLogger(level: LogLevel = 'info', dest?: DestinationStream): Logger {
  const opts = { level, base: { service: 'trustgate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
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
