/**
 * A host's standing for the admin API: the decision per resource of the installed policy, computed now
 * from the posture engine's precomputed verdicts (no user, no break glass), and whether any resource's
 * posture would deny.
 */
import type { Host } from '../domain/types.js';
import type { PostureEngine } from '../posture/engine.js';
import type { RuntimeModel } from './model.js';

export interface HostSummary {
  /** Decision per resource, computed now from the precomputed verdicts. */
  decisions: Record<string, { decision: 'allow' | 'deny'; would_deny: boolean; reasons: string[] }>;
  failing: boolean;
}

export interface HostSummaryDeps {
  engine: Pick<PostureEngine, 'verdict'>;
  model: Pick<RuntimeModel, 'policy'>;
}

export function createHostSummary(deps: HostSummaryDeps): (host: Host, now: number) => HostSummary {
  return (host, now) => {
    const decisions: HostSummary['decisions'] = {};
    for (const name of Object.keys(deps.model.policy().resources)) {
      const v = deps.engine.verdict(host.serial, name, null, now);
      if (v.kind !== 'verdict') continue;
      const { decision, would_deny, reasons } = v.verdict;
      decisions[name] = { decision, would_deny, reasons: reasons.map((r) => r.check) };
    }
    return { decisions, failing: Object.values(decisions).some((d) => d.would_deny) };
  };
}
