/**
 * What the device-identity tests share: the real server in an enrollment mode (with the shipped packs and a
 * policy whose `webhook` is a local receiver), device certificates issued through the admin API, agents that
 * present them (as osqueryd's --tls_client_cert / --tls_client_key), the audit log and the webhook as a
 * security team reads them, and a device's verdict.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../server/shared/clock.js';
import { enrollDevice, postureLines, type DevicePlatform } from '../gateway/baseline.js';
import { agentFor, OSQ, tryEnroll, type EnrolledAgent, type EnrollOverride } from '../osquery/agent.js';
import { createClient, type Client, type ClientOptions, type Reply } from '../support/http.js';
import { REPO_PACKS, startTestServer, type TestServer } from '../support/server.js';

export const DARWIN = 'enroll-request-darwin10.14.6-osquery4.6.0.json';

/** A local webhook receiver (the security team's channel). */
export interface Hook {
  url: string;
  messages: Array<{ text: string }>;
  close(): Promise<void>;
}

export async function startHook(): Promise<Hook> {
  const messages: Array<{ text: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      messages.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ModeServer {
  ts: TestServer;
  clock: ManualClock;
  hook: Hook;
  stop(): Promise<void>;
}

/** The real server in an enrollment mode, its policy's webhook pointing at a local receiver. */
export async function startModeServer(env: Record<string, string>): Promise<ModeServer> {
  const hook = await startHook();
  const packs = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-device-packs-'));
  fs.cpSync(REPO_PACKS, packs, { recursive: true });
  fs.appendFileSync(path.join(packs, 'policy.yaml'), `\nwebhook: ${hook.url}\n`);
  const clock = new ManualClock(Date.now());
  // the receiver is on loopback: allowed by the setting, as a deployment with a local receiver would set it
  const ts = await startTestServer({
    packsDir: packs,
    env: { TRUSTGATE_WEBHOOK_ALLOW_PRIVATE: 'true', ...env },
    clock,
  });
  return {
    ts,
    clock,
    hook,
    async stop() {
      await ts.stop();
      await hook.close();
      fs.rmSync(packs, { recursive: true, force: true });
    },
  };
}

export const admin = (ts: TestServer, p: string, body?: unknown, method?: string): Promise<Reply> =>
  ts.client.request(`/api/v1${p}`, {
    token: ts.adminToken,
    ...(body !== undefined ? { body } : {}),
    ...(method ? { method } : {}),
  });

export interface IssuedCert {
  serial: string;
  certificate: string;
  private_key: string;
  sha256: string;
  cert_serial: string;
  pkcs12: string;
  pkcs12_password: string;
}

/** A device certificate from Trustgate's device CA (POST /api/v1/device-certs). */
export async function issueCert(ts: TestServer, serial: string): Promise<IssuedCert> {
  const r = await admin(ts, '/device-certs', { serial });
  if (r.status !== 201) throw new Error(`issue failed: ${r.status} ${r.text}`);
  return r.json as IssuedCert;
}

/** A client presenting `cert` (osquery with --tls_client_cert/--tls_client_key); none when omitted. */
export function agentClient(ts: TestServer, cert?: IssuedCert, opts: ClientOptions = {}): Client {
  return createClient(ts.url, ts.caPem, {
    ...opts,
    ...(cert ? { cert: cert.certificate, key: cert.private_key } : {}),
  });
}

/** Enrolls through `client`; the agent, or the refusal. */
export async function enroll(
  ts: TestServer,
  client: Client,
  override: EnrollOverride & { serial: string; uuid: string },
): Promise<{ reply: Reply; agent: EnrolledAgent | undefined }> {
  const reply = await tryEnroll(client, ts.enrollSecret, DARWIN, override);
  const key = (reply.json as { node_key?: string } | undefined)?.node_key;
  return { reply, agent: key ? agentFor(client, key, override.serial) : undefined };
}

/** The baseline results of a compliant (or failing) darwin device, as one /log batch. */
export function reportPosture(agent: EnrolledAgent, unixTime: number, failing: string[] = []): Promise<Reply> {
  return agent.post('/log', { log_type: 'result', data: postureLines('darwin', { unixTime, failing }) });
}

/** A compliant device of `platform` enrolled in secret mode through the shared client, reporting now. */
export async function compliantDevice(ms: ModeServer, platform: DevicePlatform, serial: string) {
  const d = await enrollDevice(ms.ts.client, ms.ts.enrollSecret, platform, serial);
  await d.report({ unixTime: ms.clock.now() / 1000 });
  return d;
}

export async function verdict(ts: TestServer, serial: string, resource = 'prod-db') {
  const q = new URLSearchParams({ serial, resource, user: 'alice' });
  const r = await ts.client.request(`/api/v1/verdict?${q}`, { token: ts.gatewayToken });
  return r.json as { decision: string; reasons: Array<{ check: string; status: string }> };
}

/** Audit entries of a type (waits for background entries, which are appended a few times a second). */
export async function auditOf(ts: TestServer, type: string, serial?: string, atLeast = 1) {
  const q = new URLSearchParams({ type, ...(serial ? { serial } : {}) });
  let entries: Array<{ type: string; actor: string; serial: string; data: Record<string, unknown> }> = [];
  for (let i = 0; i < 50; i++) {
    const r = await admin(ts, `/audit?${q}`);
    entries = (r.json as { entries: typeof entries }).entries;
    if (entries.length >= atLeast) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return entries;
}

/** Webhook messages whose text includes `needle` (waits for the background delivery). */
export async function hookMessages(hook: Hook, needle: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const found = hook.messages.map((m) => m.text).filter((t) => t.includes(needle));
    if (found.length) return found;
    await new Promise((res) => setTimeout(res, 50));
  }
  return [];
}

export const configOf = async (agent: EnrolledAgent) =>
  (await agent.post('/config', {})).json as {
    packs?: Record<string, unknown>;
    node_invalid?: boolean;
  };

export { OSQ };
