/**
 * The verdict's JSON text (SPEC §4), as the gateway answers it: the same bytes as `JSON.stringify`, built
 * from the fields in their order. A device's reasons are long-lived arrays shared by every request for its
 * tier (posture/host-record.ts), so each array's JSON is made once and kept beside it (a WeakMap: it goes
 * when the array does). Every request costs strings joined, not an object graph walked: at thousands of
 * decisions a second, the whole-object `JSON.stringify` was a tenth of the gateway's main-thread time.
 */
import type { BreakGlassRef, Verdict, VerdictDevice, VerdictReason } from '../domain/verdict.js';

const reasonsJson = new WeakMap<readonly VerdictReason[], string>();

/**
 * `JSON.stringify(s)`: a string of printable ASCII without a quote or a backslash (serials, names, times,
 * links) is quoted as it is, anything else goes to JSON.stringify. Each JSON.stringify call enters the
 * runtime, and a verdict has a dozen strings: with the check, 14.5k → 9k instructions per verdict.
 */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const str = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));
const strOrNull = (s: string | null): string => (s === null ? 'null' : str(s));

function reasonsText(reasons: readonly VerdictReason[]): string {
  if (reasons.length === 0) return '[]';
  let s = reasonsJson.get(reasons);
  if (s === undefined) {
    s = JSON.stringify(reasons);
    reasonsJson.set(reasons, s);
  }
  return s;
}

const breakGlassText = (b: BreakGlassRef | null): string =>
  b === null ? 'null' : `{"id":${str(b.id)},"expires_at":${str(b.expires_at)},"reason":${str(b.reason)}}`;

const deviceText = (d: VerdictDevice | null): string =>
  d === null
    ? 'null'
    : `{"hostname":${str(d.hostname)},"platform":${str(d.platform)},"last_seen_at":${str(d.last_seen_at)}}`;

const numberOrNull = (n: number | null): string => (n !== null && Number.isFinite(n) ? String(n) : 'null');

/** `JSON.stringify(v)` for a verdict as assembleVerdict (posture/verdict.ts) builds it, field for field. */
export function verdictJson(v: Verdict): string {
  return (
    `{"decision":${str(v.decision)},"enforced":${v.enforced},"would_deny":${v.would_deny},` +
    `"resource":${str(v.resource)},"tier":${str(v.tier)},"serial":${str(v.serial)},"user":${strOrNull(v.user)},` +
    `"reasons":${reasonsText(v.reasons)},"break_glass":${breakGlassText(v.break_glass)},` +
    `"device":${deviceText(v.device)},"remediation_page":${strOrNull(v.remediation_page)},` +
    `"evaluated_at":${str(v.evaluated_at)},"data_age_seconds":${numberOrNull(v.data_age_seconds)}}`
  );
}
