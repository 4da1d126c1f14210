/**
 * Posture drift: at random moments (exponential waiting time, `driftPerHour` per host) a host moves to
 * another profile: a compliant host breaks something, a failing one gets something resolved
 * (encryption finishes, an update installs, a person fixes a setting).
 */
import { DRIFT } from '../profile-data/facets.js';
import { osKeyOf, type Profile } from '../profiles.js';
import { at, K_DRIFT, simNow, type FleetContext } from './context.js';
import type { Agent } from './state.js';

/** Moves the host to the profile one change away, if the catalogue has it. */
export function drift(ctx: FleetContext, a: Agent): void {
  const { catalogue, rng } = ctx;
  const p = a.profile;
  let next: Profile | undefined;
  if (p.facets.length > 0 && rng.next() < 0.6) {
    // Something resolves: encryption finishes, an update installs, a person fixes a setting.
    const fixable = p.facets.filter((f) => DRIFT.resolves.includes(f));
    const f = fixable.length ? rng.pick(fixable) : undefined;
    if (f === 'os_outdated')
      next = catalogue.fixed(p).facets.length === 0 && p.facets.length === 1 ? catalogue.fixed(p) : undefined;
    else if (f)
      next = catalogue.find(
        p.platform,
        osKeyOf(p),
        p.facets.filter((x) => x !== f),
      );
  } else if (p.facets.length === 0) {
    const f = rng.pick(DRIFT.breaks[p.platform]);
    next = catalogue.find(p.platform, osKeyOf(p), [f]);
  }
  if (next && next !== p) {
    a.profile = next;
    ctx.st.driftEvents++;
  }
}

/** Sets the host's next drift timer. */
export function scheduleDrift(ctx: FleetContext, a: Agent): void {
  if (ctx.driftPerHour <= 0) return;
  // Exponential waiting time with the given rate per simulated hour.
  const hours = -Math.log(1 - ctx.rng.next()) / ctx.driftPerHour;
  at(ctx, a, K_DRIFT, simNow(ctx) + hours * 3_600_000);
}
