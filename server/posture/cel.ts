/**
 * A check's optional `pass` expression, in CEL (@marcbachmann/cel-js).
 *
 * The expression sees one variable, `rows`: the query's latest result set as a list of maps of
 * string → string (osquery reports every value as a string). It must return a bool. Two helpers
 * are registered for the most common posture question, "is this version new enough":
 *
 *   version_compare(a, b) -> int   -1, 0 or 1 (a < b, a == b, a > b)
 *   version_at_least(a, b) -> bool version_compare(a, b) >= 0
 *
 * Version parsing (shared/version.ts), exactly: leading whitespace and an optional `v`/`V` are
 * skipped, then the longest run of `digits(.digits)*` is taken; everything after it is ignored. So
 * `14.4.1 (23E224)` is 14.4.1, `10.0.22631` is 10.0.22631, `5.15.0-91-generic` is 5.15.0 and
 * `22.04.3 LTS` is 22.4.3. Components compare numerically left to right (any size, leading zeros
 * ignored); a missing component counts as 0, so `14.4` == `14.4.0`. A string with no leading number
 * (`""`, `unknown`) is an evaluation error,
 * which makes the check `error` (never `pass`).
 *
 * Compile errors (syntax, unknown variables or functions, type errors, a non-bool result) are
 * reported when packs or the policy load, via `compilePass` throwing AppError('invalid').
 * Evaluation errors (e.g. `rows[0]` on an empty result, `int("abc")`) throw from the predicate; the
 * caller turns them into check status `error`.
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { AppError, errorMessage } from '../shared/errors.js';
import type { Row } from '../domain/types.js';
import { versionAtLeast, versionCompare } from '../shared/version.js';

/** Decides pass (true) or fail (false) from a result set; throws when the expression cannot be evaluated. */
export type PassPredicate = (rows: readonly Row[]) => boolean;

/** Structural limits: pass expressions are short; a huge one is a mistake (or an attack on the loader). */
const LIMITS = { maxAstNodes: 2000, maxDepth: 64, maxListElements: 500, maxMapEntries: 500, maxCallArguments: 16 };

/** Builds the (immutable once cloned) CEL environment for pass expressions. */
export function createPassEnvironment(): Environment {
  const env = new Environment({ limits: LIMITS })
    .registerVariable('rows', 'list<map<string, string>>', { description: 'the latest result rows of the check query' })
    .registerFunction('version_compare(string, string): int', (a: string, b: string) => BigInt(versionCompare(a, b)), {
      description: 'compares dotted numeric versions: -1, 0 or 1',
    })
    .registerFunction('version_at_least(string, string): bool', (a: string, b: string) => versionAtLeast(a, b), {
      description: 'true when version a >= version b',
    });
  return env;
}

let sharedEnv: Environment | undefined;
/**
 * One environment for all compilations: building one is the expensive part. It is private to this
 * module and never registered into after creation, so it holds no state between compilations.
 */
function passEnvironment(): Environment {
  sharedEnv ??= createPassEnvironment();
  return sharedEnv;
}

/**
 * Compiles a `pass` expression once (at pack/policy load). Throws AppError('invalid') naming the check
 * when the expression does not parse, does not type-check, or does not return a bool.
 */
export function compilePass(expr: string, checkId: string): PassPredicate {
  let parsed: ParseResult;
  try {
    parsed = passEnvironment().parse(expr);
  } catch (e) {
    throw new AppError(
      'invalid',
      `check "${checkId}": pass expression does not parse: ${errorMessage(e)}`,
      { check: checkId },
      { cause: e },
    );
  }
  const checked = parsed.check();
  if (!checked.valid) {
    const why = checked.error ? errorMessage(checked.error) : 'type error';
    throw new AppError('invalid', `check "${checkId}": pass expression is invalid: ${why}`, { check: checkId });
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new AppError(
      'invalid',
      `check "${checkId}": pass expression must return bool, not ${checked.type ?? 'unknown'}`,
      { check: checkId },
    );
  }
  return (rows) => {
    const value: unknown = parsed({ rows });
    if (typeof value !== 'boolean') throw new Error(`pass expression returned ${typeof value}, not bool`);
    return value;
  };
}
