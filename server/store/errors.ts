/**
 * Driver errors → AppErrors, inside the store: a constraint the database enforces (a duplicate key, a row
 * of a host that is gone) becomes the typed error its port promises, so no SqliteError reaches a service
 * or a handler (as Fleet's LoadHostByNodeKey turns ErrNoRows into its NotFound error). Anything else is
 * rethrown as it is: a failure of the store itself, a 500.
 */
import Database from 'better-sqlite3';
import { AppError, type ErrorCode } from '../shared/errors.js';

/** The kinds of constraint violation a repository translates. */
export type Violation = 'unique' | 'foreign_key';

const VIOLATIONS: Readonly<Record<string, Violation>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
};

/** The constraint `e` violates (looking through `cause`, which a query builder may wrap it in), if any. */
export function violationOf(e: unknown): Violation | undefined {
  let err: unknown = e;
  for (let depth = 0; depth < 4 && err instanceof Error; depth++) {
    if (err instanceof Database.SqliteError) return VIOLATIONS[err.code];
    err = err.cause;
  }
  return undefined;
}

/** What a violation becomes: the AppError's code and message (the driver's error is kept as its cause). */
export type Translation = readonly [code: ErrorCode, message: string];

/**
 * Runs a synchronous write; a violation listed in `as` is thrown as the AppError it names. Any other
 * error, and a violation not listed, is rethrown unchanged.
 */
export function translated<T>(write: () => T, as: Partial<Record<Violation, Translation>>): T {
  try {
    return write();
  } catch (e) {
    const violation = violationOf(e);
    const to = violation && as[violation];
    if (!to) throw e;
    throw new AppError(to[0], to[1], undefined, { cause: e });
  }
}
