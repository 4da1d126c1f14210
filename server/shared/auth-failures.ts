/**
 * Failed authentications, limited (issue #15 item 7). Only failures are counted, and only after the
 * credential was checked: a valid credential is never slowed, whatever its address has done. Two keys:
 * - the client address (the socket's peer, or the forwarded one when the peer is a trusted proxy,
 *   shared/client-address.ts), with a generous budget so an office NAT or a load balancer in front is not
 *   refused for one misconfigured client behind it (and even then only its failing requests are refused);
 * - the presented credential (its SHA-256, never the secret): one wrong token, enroll secret or node key
 *   retried, from one address or many.
 * Unknown node keys count per credential only: when a fleet's keys become invalid at once (a restored
 * database, a mass unenroll) every agent behind one NAT must get `node_invalid` and re-enroll, not 429.
 * A key over its budget answers its failures with `rate_limited` (429 + Retry-After; osquery: an `error`
 * body) until its window, counted from the key's first failure, is over. The maps are bounded (oldest
 * key dropped first) so a flood of addresses cannot grow memory.
 */
import type { Clock } from './clock.js';
import { sha256Hex } from './crypto.js';
import { AppError } from './errors.js';
import { createClientAddress, type ClientAddress } from './client-address.js';

export interface AuthFailureLimits {
  /** Failures per client address in one window; 0: not limited. */
  perAddress: number;
  /** Failures per presented credential in one window; 0: not limited. */
  perCredential: number;
  windowMs: number;
  /** Keys remembered per map (default 50,000). */
  maxKeys?: number;
}

/**
 * What a failed authentication was: where it came from (absent: not counted per address), what it
 * presented (absent: nothing).
 */
export interface FailedAttempt {
  address?: string | undefined;
  credential?: string | undefined;
}

export interface AuthFailures {
  /**
   * Records `err` when it is a failed authentication (AppError `unauthenticated`) and returns what to
   * throw instead: the same error, or `rate_limited` once a key is over its budget. Other errors pass.
   */
  refuse(err: unknown, attempt: FailedAttempt): unknown;
}

class FixedWindows {
  private readonly map = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}
  /** Counts one failure; the ms until the key may fail again when it is over budget, else 0. */
  hit(key: string, now: number): number {
    if (this.max <= 0) return 0;
    let w = this.map.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.map.delete(key);
      if (this.map.size >= this.maxKeys) this.map.delete(this.map.keys().next().value as string);
      w = { start: now, count: 0 };
      this.map.set(key, w);
    }
    w.count += 1;
    return w.count > this.max ? w.start + this.windowMs - now : 0;
  }
}

export function createAuthFailures(limits: AuthFailureLimits, clock: Clock): AuthFailures {
  const maxKeys = limits.maxKeys ?? 50_000;
  const byAddress = new FixedWindows(limits.perAddress, limits.windowMs, maxKeys);
  const byCredential = new FixedWindows(limits.perCredential, limits.windowMs, maxKeys);
  return {
    refuse(err, attempt) {
      if (!(err instanceof AppError) || err.code !== 'unauthenticated') return err;
      const now = clock.now();
      const waitMs = Math.max(
        attempt.address === undefined ? 0 : byAddress.hit(attempt.address, now),
        attempt.credential ? byCredential.hit(sha256Hex(attempt.credential), now) : 0,
      );
      if (waitMs <= 0) return err;
      const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
      return new AppError('rate_limited', `too many failed authentications: retry in ${retryAfterS} s`, undefined, {
        retryAfterS,
        cause: err,
      });
    },
  };
}

/** The limit and the client address it is keyed by, from the settings (config/load.ts). */
export function authFailuresFromSettings(
  s: {
    authFailuresPerAddress: number;
    authFailuresPerCredential: number;
    authFailureWindowSeconds: number;
    trustedProxies: readonly string[];
  },
  clock: Clock,
): { limit: AuthFailures; addressOf: ClientAddress } {
  const limits = {
    perAddress: s.authFailuresPerAddress,
    perCredential: s.authFailuresPerCredential,
    windowMs: s.authFailureWindowSeconds * 1000,
  };
  return { limit: createAuthFailures(limits, clock), addressOf: createClientAddress(s.trustedProxies) };
}
