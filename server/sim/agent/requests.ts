/**
 * How a simulated agent talks to the server, as osquery's TLS plugins do: enroll (host_details, retries
 * min(n², tls_enroll_max_interval) s), every other request through TLSRequestHelper::go (node key
 * first, node_invalid clears it so the next attempt re-enrolls, NodeKey header from osquery 5.23), and
 * the per-endpoint counts and latency of every POST.
 */
import type { Row } from '../../domain/types.js';
import type { OsqueryPaths } from '../fleet-api.js';
import { versionAtLeast } from '../identity.js';
import type { PostResult } from '../transport.js';
import { addStatus, sleep, type FleetContext } from './context.js';
import type { Agent } from './state.js';
import { isRecord, judge, PLATFORM_TYPE } from './wire.js';

/** One POST on the host's connection (its own, or the fleet's pool), counted per endpoint. */
export async function post(
  ctx: FleetContext,
  a: Agent,
  name: keyof OsqueryPaths,
  body: unknown,
  hdrs?: Record<string, string>,
  gzip = false,
): Promise<PostResult> {
  const r = await (a.transport ?? ctx.transport).post(ctx.paths[name], body, { headers: hdrs, gzip });
  const e = ctx.st.endpoints[name];
  e.latency.record(r.ms);
  if (judge(r) === 'ok') e.ok++;
  else e.failed++;
  return r;
}

const headers = (a: Agent, key: string | null): Record<string, string> | undefined =>
  key && versionAtLeast(a.osqueryVersion, '5.23.0') ? { Authorization: `NodeKey ${key}` } : undefined;

/** host_details: the first row of os_version, osquery_info, system_info and platform_info. */
function hostDetails(ctx: FleetContext, a: Agent): Record<string, Row> {
  const out: Record<string, Row> = {};
  for (const t of ['os_version', 'osquery_info', 'system_info', 'platform_info']) {
    const rows = ctx.engine.tableRows(a.profile, t, a);
    const first = rows[0];
    if (first) out[t] = first;
  }
  return out;
}

async function enrollOnce(ctx: FleetContext, a: Agent): Promise<string | null> {
  ctx.st.enrollRequests++;
  const id = a.identity();
  const body = {
    enroll_secret: ctx.opts.enrollSecret,
    host_identifier: a.hostIdentifier || id.hostname,
    platform_type: PLATFORM_TYPE[id.platform],
    host_details: hostDetails(ctx, a),
  };
  const r = await post(ctx, a, 'enroll', body);
  // The enroll plugin reads only node_key (or the legacy `id`); node_invalid and error are ignored.
  if (r.ok && isRecord(r.json)) {
    const key =
      typeof r.json['node_key'] === 'string'
        ? r.json['node_key']
        : typeof r.json['id'] === 'string'
          ? r.json['id']
          : '';
    if (key !== '') return key;
  }
  return null;
}

/** Enrolls, retrying up to tls_enroll_max_attempts times; the node key, or null. */
async function enrollWithRetries(ctx: FleetContext, a: Agent): Promise<string | null> {
  const { flags, st } = ctx;
  const max = flags.tls_enroll_max_attempts;
  for (let attempt = 1; ctx.running && (max === 0 || attempt <= max); attempt++) {
    const key = await enrollOnce(ctx, a);
    if (key) {
      a.nodeKey = key;
      st.enrolled++;
      const now = ctx.clock.now();
      st.firstEnrollAt ??= now;
      if (st.enrolled >= ctx.agents.length && st.allEnrolledAt === null) st.allEnrolledAt = now;
      return key;
    }
    addStatus(
      ctx,
      a,
      1,
      'tls_enroll.cpp',
      102,
      `Failed enrollment request to ${ctx.paths.enroll} (No node key returned from TLS enroll plugin) retrying...`,
    );
    await sleep(ctx, a, 0, Math.min(attempt * attempt, flags.tls_enroll_max_interval) * 1000);
  }
  return null;
}

/** The host's node key: the one it has, the enrollment under way, or a new enrollment. */
export function getNodeKey(ctx: FleetContext, a: Agent): Promise<string | null> {
  if (a.nodeKey) return Promise.resolve(a.nodeKey);
  if (a.enrolling) return a.enrolling;
  const p = enrollWithRetries(ctx, a);
  a.enrolling = p;
  void p.finally(() => {
    if (a.enrolling === p) a.enrolling = null;
  });
  return p;
}

function clearKey(ctx: FleetContext, a: Agent): void {
  if (a.nodeKey !== null) {
    a.nodeKey = null;
    ctx.st.enrolled--;
  }
  ctx.st.nodeInvalid++;
}

/** One request through osquery's TLSRequestHelper::go: node key first, node_invalid clears it. */
export async function go(
  ctx: FleetContext,
  a: Agent,
  name: keyof OsqueryPaths,
  extra: Record<string, unknown>,
  attempts: number,
  slot: number,
  gzip = false,
): Promise<PostResult | null> {
  for (let i = 1; i <= attempts && ctx.running; i++) {
    const key = await getNodeKey(ctx, a);
    if (key) {
      const r = await post(ctx, a, name, { ...extra, node_key: key }, headers(a, key), gzip);
      const verdict = judge(r);
      if (verdict === 'ok') return r;
      if (verdict === 'node_invalid') clearKey(ctx, a);
    }
    if (i < attempts) await sleep(ctx, a, slot, i * i * 1000);
  }
  return null;
}
