/**
 * Enrollment (POST /api/v1/osquery/enroll): the enroll secret is compared against every active one
 * (constant time, no early exit), the device identity comes from the agent's host details (normalize.ts),
 * and a fresh node key is handed out once; only its hash is stored. Re-enrolling drops the device's
 * previous key from the node-key cache.
 */
import type { EnrollSecretRepo, HostRepo, NodeKeyCache } from '../domain/ports.js';
import type { Host } from '../domain/types.js';
import type { Clock } from '../shared/clock.js';
import { matchesHash, randomSecret, sha256Hex } from '../shared/crypto.js';
import { invalid, unauthenticated } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { enrollFacts } from './normalize.js';
import type { EnrollBody } from './schemas.js';

export interface EnrollDeps {
  hosts: Pick<HostRepo, 'enroll'>;
  secrets: Pick<EnrollSecretRepo, 'active'>;
  nodeKeys: Pick<NodeKeyCache, 'delete'>;
  onEnrolled(host: Host, reenrolled: boolean): Promise<void> | void;
  clock: Clock;
  log: Logger;
}

/** The name of the active secret that matches; every secret is checked so timing reveals none. */
async function matchingSecret(deps: EnrollDeps, body: EnrollBody, now: number): Promise<string> {
  const secrets = await deps.secrets.active(now);
  let matched: string | undefined;
  for (const s of secrets) if (matchesHash(body.enroll_secret, s.hash) && matched === undefined) matched = s.name;
  if (matched === undefined) {
    deps.log.warn(
      { event: 'host.enroll_refused', hostIdentifier: body.host_identifier },
      'enroll refused: invalid enroll secret',
    );
    throw unauthenticated('invalid enroll secret');
  }
  return matched;
}

export async function enroll(deps: EnrollDeps, body: EnrollBody): Promise<{ nodeKey: string; host: Host }> {
  const now = deps.clock.now();
  const matched = await matchingSecret(deps, body, now);
  const facts = enrollFacts(body);
  if (!facts.serial)
    throw invalid(
      'enroll request has no usable device identity (host_identifier, system_info.uuid or hardware_serial)',
    );
  const nodeKey = randomSecret(32);
  const outcome = await deps.hosts.enroll({
    ...facts,
    nodeKeyHash: sha256Hex(nodeKey),
    enrollSecretName: matched,
    at: now,
  });
  if (outcome.revokedNodeKeyHash) deps.nodeKeys.delete(outcome.revokedNodeKeyHash);
  deps.log.info(
    {
      event: 'host.enrolled',
      serial: outcome.host.serial,
      hostId: outcome.host.id,
      platform: outcome.host.platform,
      reenrolled: outcome.reenrolled,
      secret: matched,
      serialConflict: outcome.host.serialConflict,
    },
    'host enrolled',
  );
  await deps.onEnrolled(outcome.host, outcome.reenrolled);
  return { nodeKey, host: outcome.host };
}
