/**
 * Forward-auth adapter (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth): a verdict
 * becomes a status and three headers. Pure; the route supplies the lookup.
 */
import type { VerdictLookup } from '../domain/verdict.js';

export interface ForwardAuthDecision {
  status: 200 | 403;
  headers: Record<string, string>;
}

/** Header values must be one line of visible ASCII: anything else is dropped (no header injection). */
function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '');
}

/** Check ids without the list separator, so the comma-separated header stays parseable. */
const reasonId = (id: string): string => headerSafe(id).replace(/[,\s]/g, '');

/** A deny for a request that never reached a verdict (no serial header, no resource). */
export function denyDecision(reason: string): ForwardAuthDecision {
  return { status: 403, headers: { 'X-Trustgate-Decision': 'deny', 'X-Trustgate-Reasons': reasonId(reason) } };
}

export function decide(lookup: VerdictLookup): ForwardAuthDecision {
  if (lookup.kind === 'unknown_resource') return denyDecision('unknown_resource');
  const v = lookup.verdict;
  const headers: Record<string, string> = {
    'X-Trustgate-Decision': v.decision,
    'X-Trustgate-Reasons': v.reasons.map((r) => reasonId(r.check)).join(','),
  };
  if (v.remediation_page) headers['X-Trustgate-Remediation-URL'] = headerSafe(v.remediation_page);
  if (v.decision === 'allow' && v.would_deny) headers['X-Trustgate-Would-Deny'] = 'true';
  if (v.break_glass) headers['X-Trustgate-Break-Glass'] = headerSafe(v.break_glass.id);
  return { status: v.decision === 'allow' ? 200 : 403, headers };
}
