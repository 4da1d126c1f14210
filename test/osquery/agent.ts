/** Speaks to the server as osqueryd does (test helper over the real HTTPS path). */
import type { Client, Reply } from '../support/http.js';
import { fixture } from './fixtures.js';

export interface EnrolledAgent {
  nodeKey: string;
  serial: string;
  post(path: string, body: Record<string, unknown>, opts?: { gzip?: boolean; header?: boolean }): Promise<Reply>;
}

export const OSQ = '/api/v1/osquery';

type EnrollFixture = Record<string, unknown> & { host_details?: Record<string, Record<string, string>> };
export interface EnrollOverride {
  serial?: string;
  uuid?: string;
  hostname?: string;
}

/** The enroll body of a real fixture with the serial/UUID/hostname overridden. */
export function enrollBody(secret: string, fixtureName: string, override: EnrollOverride = {}): EnrollFixture {
  const body = fixture<EnrollFixture>(fixtureName);
  body.enroll_secret = secret;
  if (body.host_details?.system_info) {
    if (override.serial) body.host_details.system_info.hardware_serial = override.serial;
    if (override.uuid) body.host_details.system_info.uuid = override.uuid;
    if (override.hostname) body.host_details.system_info.hostname = override.hostname;
  } else if (override.uuid) body.host_identifier = override.uuid;
  return body;
}

/** One enroll request as osqueryd sends it; the reply as it is (refusals included). */
export const tryEnroll = (client: Client, secret: string, fixtureName: string, override: EnrollOverride = {}) =>
  client.request(`${OSQ}/enroll`, { body: enrollBody(secret, fixtureName, override) });

/** An agent for a node key already handed out, speaking through `client` (its connection and certificate). */
export function agentFor(client: Client, nodeKey: string, serial: string): EnrolledAgent {
  return {
    nodeKey,
    serial,
    post: (p, b, opts = {}) =>
      client.request(`${OSQ}${p}`, {
        body: opts.header ? b : { ...b, node_key: nodeKey },
        gzip: opts.gzip ?? false,
        headers: opts.header ? { authorization: `NodeKey ${nodeKey}` } : {},
      }),
  };
}

/** Enrolls from a real enroll fixture, optionally overriding the serial/UUID so hosts stay distinct. */
export async function enrollFrom(
  client: Client,
  secret: string,
  fixtureName: string,
  override: EnrollOverride = {},
): Promise<EnrolledAgent> {
  const body = enrollBody(secret, fixtureName, override);
  const r = await client.request(`${OSQ}/enroll`, { body });
  const nodeKey = (r.json as { node_key?: string }).node_key;
  if (!nodeKey) throw new Error(`enroll failed: ${r.status} ${r.text}`);
  const serial =
    body.host_details?.system_info?.hardware_serial ||
    body.host_details?.system_info?.uuid ||
    String(body.host_identifier);
  return agentFor(client, nodeKey, serial);
}

export const snapshotLine = (name: string, unixTime: number, rows: Array<Record<string, string>>) => ({
  snapshot: rows,
  action: 'snapshot',
  name,
  hostIdentifier: 'test',
  calendarTime: 'x',
  unixTime,
  epoch: 0,
  counter: 0,
  numerics: false,
});

/**
 * The first distributed/read of a freshly enrolled agent: the server queued the host's checks at
 * enrollment (every check of its platform). Takes them, unanswered, so a test that looks at what a later
 * read brings starts from an empty queue; returns the id → SQL map and the read's `accelerate`.
 */
export async function takeEnrollmentChecks(
  agent: EnrolledAgent,
): Promise<{ queries: Record<string, string>; accelerate: unknown }> {
  const r = await agent.post('/distributed/read', {});
  const body = r.json as { queries?: Record<string, string>; accelerate?: unknown };
  const queries = body.queries ?? {};
  const other = Object.keys(queries).filter((id) => !id.startsWith('tg_enroll_'));
  if (r.status !== 200 || other.length) throw new Error(`not the enrollment checks: ${r.status} ${r.text}`);
  return { queries, accelerate: body.accelerate };
}
