/**
 * The gateway's view of the posture engine: verdicts whose posture would deny get the signed link to the
 * remediation page (SPEC §4/§6; the engine's verdicts carry none, the signing key is here), and a verdict
 * allowed by break glass reports the grant's use (audited once per grant). Both happen off the plain
 * allow path, which stays a lookup. The person is taken in its canonical form (domain/identity.ts: the
 * lower-cased e-mail; anything else is no person) before the lookup.
 */
import { canonicalPerson } from '../domain/identity.js';
import type { VerdictSource } from '../domain/verdict.js';
import { deviceLinkUrl, signDeviceLink } from './link.js';

export interface VerdictLinkOptions {
  /** The link-signing key. */
  key: string;
  publicUrl: string;
  /** Lifetime of a signed link. */
  ttlMs: number;
  /** A verdict allowed because of this grant (break glass). */
  noteUse(grantId: string): void;
}

/** Links cached at most (then the cache starts over). */
const MAX_LINKS = 100_000;

export function withRemediationLinks(source: VerdictSource, opts: VerdictLinkOptions): VerdictSource {
  // A denied device's gateway asks again on every request: a signed link is reused while it has more
  // than half its lifetime left, so every link handed out stays valid for at least ttl/2.
  const links = new Map<string, { url: string; expiresAt: number }>();
  const linkFor = (serial: string, resource: string, user: string, now: number): string => {
    const k = `${serial}\u0000${resource}\u0000${user}`;
    const hit = links.get(k);
    if (hit && hit.expiresAt - now > opts.ttlMs / 2) return hit.url;
    if (links.size >= MAX_LINKS) links.clear();
    const expiresAt = now + opts.ttlMs;
    const url = deviceLinkUrl(opts.publicUrl, signDeviceLink({ serial, user, resource }, opts.key, expiresAt));
    links.set(k, { url, expiresAt });
    return url;
  };
  return {
    bundleInChunks: () => source.bundleInChunks(),
    verdict(serial, resource, rawUser, now) {
      // one person, one form: `Alice@X` and `alice@x` are the same person for pairing, grants and links
      const user = canonicalPerson(rawUser);
      const out = source.verdict(serial, resource, user, now);
      if (out.kind !== 'verdict' || !out.verdict.would_deny) return out;
      if (out.verdict.break_glass) opts.noteUse(out.verdict.break_glass.id);
      if (out.verdict.remediation_page) return out;
      const remediationPage = linkFor(serial, resource, user ?? '', now);
      return { kind: 'verdict', verdict: { ...out.verdict, remediation_page: remediationPage } };
    },
  };
}
