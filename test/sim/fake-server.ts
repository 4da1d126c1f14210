/**
 * A tiny in-memory osquery TLS server for the simulator's unit tests: a Transport that answers the
 * osquery paths the way the protocol says (node_invalid for unknown keys, {} acks, config documents),
 * records every request, and can be told to fail.
 */
import { createHash } from 'node:crypto';
import type { PostOptions, PostResult, Transport } from '../../server/sim/transport.js';

export interface RecordedRequest {
  path: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  gzip: boolean;
  at: number;
}

export type Mode = 'ok' | 'error' | 'node_invalid' | 'network';

export interface FakeServer {
  transport: Transport;
  requests: RecordedRequest[];
  /** Config document per platform (os_version.platform family: darwin, windows, linux). */
  configFor: (platform: string) => unknown;
  /** Answer mode per endpoint. */
  mode: Record<'enroll' | 'config' | 'log' | 'read' | 'write', Mode>;
  /** Distributed queries to hand out, per hardware serial. */
  queue: Map<string, Record<string, string>>;
  accelerate: number | undefined;
  /** Forget every node key (the agents' next requests get node_invalid). */
  invalidateAll(): void;
  serialOfKey(key: string): string | undefined;
  byPath(suffix: string): RecordedRequest[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function createFakeServer(opts: {
  secret: string;
  now: () => number;
  configFor?: (platform: string) => unknown;
}): FakeServer {
  const keys = new Map<string, string>();
  const platformOfSerial = new Map<string, string>();
  let n = 0;
  const fake: FakeServer = {
    requests: [],
    configFor: opts.configFor ?? (() => ({ options: {}, packs: {} })),
    mode: { enroll: 'ok', config: 'ok', log: 'ok', read: 'ok', write: 'ok' },
    queue: new Map(),
    accelerate: undefined,
    invalidateAll: () => keys.clear(),
    serialOfKey: (k) => keys.get(k),
    byPath: (suffix) => fake.requests.filter((r) => r.path.endsWith(suffix)),
    transport: {
      inFlight: () => 0,
      close: () => undefined,
      async post(path: string, body: unknown, o?: PostOptions): Promise<PostResult> {
        // Everything goes through JSON, as on the wire.
        const parsed: unknown = JSON.parse(JSON.stringify(body));
        const b = isRecord(parsed) ? parsed : {};
        fake.requests.push({ path, body: b, headers: o?.headers ?? {}, gzip: o?.gzip ?? false, at: opts.now() });
        const reply = (json: unknown, status = 200): PostResult => ({
          ok: true,
          status,
          json,
          text: JSON.stringify(json),
          ms: 1,
        });
        const endpoint = path.endsWith('/enroll')
          ? 'enroll'
          : path.endsWith('/config')
            ? 'config'
            : path.endsWith('/log')
              ? 'log'
              : path.endsWith('/read')
                ? 'read'
                : 'write';
        const mode = fake.mode[endpoint];
        await Promise.resolve();
        if (mode === 'network') return { ok: false, error: 'ECONNREFUSED', status: 0, ms: 1 };
        if (mode === 'error') return reply({ error: 'database is busy' }, 503);
        if (endpoint === 'enroll') {
          if (mode === 'node_invalid' || b['enroll_secret'] !== opts.secret) return reply({ node_invalid: true }, 401);
          const details = isRecord(b['host_details']) ? b['host_details'] : {};
          const sys = isRecord(details['system_info']) ? details['system_info'] : {};
          const os = isRecord(details['os_version']) ? details['os_version'] : {};
          const serial = String(sys['hardware_serial'] ?? '');
          const key = createHash('sha256').update(`${serial}:${n++}`).digest('hex');
          keys.set(key, serial);
          platformOfSerial.set(serial, String(os['platform'] ?? ''));
          return reply({ node_key: key });
        }
        const key = typeof b['node_key'] === 'string' ? b['node_key'] : '';
        const serial = keys.get(key);
        if (mode === 'node_invalid' || serial === undefined) return reply({ node_invalid: true }, 401);
        if (endpoint === 'config') {
          const p = platformOfSerial.get(serial) ?? '';
          const family = p === 'darwin' || p === 'windows' ? p : 'linux';
          const cfg = fake.configFor(family);
          return reply(isRecord(cfg) ? { ...cfg, node_invalid: false } : cfg);
        }
        if (endpoint === 'read') {
          const queries = fake.queue.get(serial) ?? {};
          fake.queue.delete(serial);
          const out: Record<string, unknown> = { queries };
          if (fake.accelerate !== undefined && Object.keys(queries).length > 0) out['accelerate'] = fake.accelerate;
          return reply(out);
        }
        return reply({});
      },
    },
  };
  return fake;
}
