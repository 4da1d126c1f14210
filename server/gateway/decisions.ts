/**
 * The gateway's decisions as they are measured: the verdict lookup (one map lookup in the precomputed
 * verdicts), timed, counted (`decisions`, `decisionSeconds`) and logged as one `gateway.decision` line;
 * and the same count and line for a forward-auth request that never reached a lookup. Built once per
 * handler: per request it is the lookup and the line, nothing more.
 */
import type { VerdictLookup, VerdictSource } from '../domain/verdict.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { ForwardAuthDecision } from './decide.js';

export interface DecisionDeps {
  verdicts: Pick<VerdictSource, 'verdict'>;
  clock: Clock;
  metrics?: Metrics | undefined;
}

export interface Decisions {
  /** The verdict for a device, resource and user now; counted and logged. */
  lookup(serial: string, resource: string, user: string | null): VerdictLookup;
  /** Counts and logs a forward-auth deny that had no serial or no resource to look up. */
  refused(serial: string, resource: string, user: string | null, d: ForwardAuthDecision): void;
}

/** `log` is the gateway's decision logger (no redaction pass: decision lines carry no secrets). */
export function createDecisions(deps: DecisionDeps, log: Logger): Decisions {
  const { metrics } = deps;

  function lookup(serial: string, resource: string, user: string | null): VerdictLookup {
    const t0 = performance.now();
    const out = deps.verdicts.verdict(serial, resource, user, deps.clock.now());
    const latencyMs = performance.now() - t0;
    const v = out.kind === 'verdict' ? out.verdict : undefined;
    if (v) metrics?.decisions.inc(resource, v.decision, v.enforced ? 'enforce' : 'monitor');
    else metrics?.decisions.inc('(unknown)', 'deny', 'none');
    metrics?.decisionSeconds.observe(latencyMs / 1000);
    // the line's fields are built only when it is written (at warn level, the decision path logs nothing)
    if (log.isLevelEnabled('info')) {
      const outcome = v
        ? {
            decision: v.decision,
            would_deny: v.would_deny,
            reasons: v.reasons.map((x) => `${x.check}:${x.status}`),
            break_glass: v.break_glass?.id ?? null,
          }
        : { decision: 'deny', reasons: ['unknown_resource'] };
      log.info({ event: 'gateway.decision', serial, user, resource, ...outcome, latencyMs }, 'decision');
    }
    return out;
  }

  /**
   * The counter's resource label for a request refused before any lookup: the name when the policy defines
   * it, else `(unknown)` as for a lookup. That name can come from the request's X-Trustgate-Resource header,
   * and a gateway that forwards the client's headers must not let clients add label sets without bound.
   */
  function resourceLabel(resource: string): string {
    if (resource === '') return '(none)';
    return deps.verdicts.verdict('', resource, null, deps.clock.now()).kind === 'unknown_resource'
      ? '(unknown)'
      : resource;
  }

  function refused(serial: string, resource: string, user: string | null, d: ForwardAuthDecision): void {
    metrics?.decisions.inc(resourceLabel(resource), 'deny', 'none');
    log.info(
      {
        event: 'gateway.decision',
        serial: serial || null,
        user,
        resource: resource || null,
        decision: 'deny',
        reasons: [d.headers['X-Trustgate-Reasons']],
      },
      'decision',
    );
  }

  return { lookup, refused };
}
