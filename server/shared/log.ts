import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = LevelWithSilent;

/** Paths that may carry secrets: never logged. */
export const REDACT_PATHS = [
  'node_key', '*.node_key', 'enroll_secret', '*.enroll_secret', 'token', '*.token',
  'req.headers.authorization', 'headers.authorization', 'authorization',
];

/** The one root logger; everything else gets a child. */
export function createLogger(level: LogLevel = 'info', dest?: DestinationStream): Logger {
  const opts = { level, base: { service: 'trustgate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return dest ? pino(opts, dest) : pino(opts);
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
