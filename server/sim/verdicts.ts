/**
 * Reading a server's verdict bundle (GET /api/v1/verdicts/bundle) from the simulator's side: which
 * devices have a complete verdict, that is one with no check of any tier still `unknown` (every check
 * has an answer, passing or not). The demo waits for them; the bench times enrollment → complete verdict.
 */
import type { VerdictBundle } from '../domain/verdict.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The serials of the bundle's devices whose verdict is complete; empty for anything but a bundle. */
export function completeSerials(bundle: unknown): Set<string> {
  const out = new Set<string>();
  const devices = isRecord(bundle) && Array.isArray(bundle.devices) ? (bundle.devices as unknown[]) : [];
  for (const d of devices) {
    if (!isRecord(d) || typeof d.serial !== 'string' || !isRecord(d.tiers)) continue;
    const tiers = Object.values(d.tiers as VerdictBundle['devices'][number]['tiers']);
    if (tiers.every((t) => t.reasons.every((r) => r.status !== 'unknown'))) out.add(d.serial);
  }
  return out;
}
