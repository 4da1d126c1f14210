/**
 * The fix → access phase of a bench run, with the fleet running at its own pace (osquery defaults):
 * failing hosts are denied, then fixed, and the time until their verdict says allow is measured, half
 * through the remediation page (the person follows the deny's link, fixes the device, presses
 * Recheck), half through an admin's recheck (POST /api/v1/hosts/:serial/recheck). The server's CPU
 * and the fleet's rates meanwhile are measured too.
 */
import { createHttpTransport } from '../sim/transport.js';
import { decisionOf, request } from './clients.js';
import { endpoints, waitQuiet, type Bench } from './phases.js';
import { cpuMs } from './proc.js';

const verdictUrl = (b: Bench, serial: string): string =>
  `${b.server.url}/api/v1/verdict?serial=${encodeURIComponent(serial)}&resource=prod-db`;

/** Polls the verdict until allow (at most 3 minutes); records seconds since `start`. */
async function awaitAllow(b: Bench, serial: string, start: number, into: number[]): Promise<void> {
  const { server } = b;
  const end = start + 180_000;
  while (Date.now() < end) {
    if (decisionOf((await request(verdictUrl(b, serial), server.caPem, 'GET', server.gatewayToken)).json) === 'allow') {
      into.push((Date.now() - start) / 1000);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The j-th measured host (index i): denied, fixed, rechecked (by an admin when j is odd), let in. */
async function fixOne(b: Bench, i: number, j: number, viaPage: number[], viaAdmin: number[]): Promise<void> {
  const { d, server, fleet } = b;
  // Denials happen at random moments relative to each host's polling phase.
  await new Promise((r) => setTimeout(r, (((j * 7919) % 1000) / 1000) * d.fixSpread * 1000));
  const serial = fleet.agent(i).serial;
  const denied = (await request(verdictUrl(b, serial), server.caPem, 'GET', server.gatewayToken)).json as {
    decision?: string;
    remediation_page?: string | null;
  } | null;
  if (denied?.decision !== 'deny') return;
  if (j % 2 === 1) {
    // An admin asks for the recheck; nobody has the page open, so the agent polls at its own pace.
    fleet.fix(i);
    const start = Date.now();
    await request(
      `${server.url}/api/v1/hosts/${encodeURIComponent(serial)}/recheck`,
      server.caPem,
      'POST',
      server.adminToken,
      {},
    );
    return awaitAllow(b, serial, start, viaAdmin);
  }
  // The person follows the link on the deny, reads the page, fixes the device, presses Recheck.
  const link = denied.remediation_page;
  if (!link) return;
  const page = await request(link, server.caPem, 'GET', null);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  const t = new URL(link).searchParams.get('t');
  if (!csrf || !t) return;
  const fixing = d.fixMinutesMin + (((j * 104_729) % 1000) / 1000) * (d.fixMinutesMax - d.fixMinutesMin);
  await new Promise((r) => setTimeout(r, fixing * 60_000));
  fleet.fix(i);
  const start = Date.now();
  await request(`${server.url}/device/recheck`, server.caPem, 'POST', null, { t, csrf });
  return awaitAllow(b, serial, start, viaPage);
}

/** Fix → access while the fleet runs; the fleet's clock stands still again afterwards. */
export async function fixAccess(b: Bench) {
  const { n, d, server, clock, fleet } = b;
  b.log(`[${n}] fix → access`);
  clock.resume();
  // the fleet now runs at its own pace (osquery defaults): the server's CPU meanwhile, measured directly
  const paceCpu0 = cpuMs(server.pid);
  const paceT0 = performance.now();
  const paceReads0 = endpoints(b).read.ok;
  const paceLogs0 = endpoints(b).log.ok;
  const failing = Array.from({ length: n }, (_, i) => i)
    .filter((i) => fleet.agent(i).facets.length > 0)
    .slice(0, 2 * d.fixes);
  // The measured hosts talk over their own connections, as every real agent does: behind the
  // simulator's shared pool of 64 they would wait for the rest of the simulated fleet, not the server.
  for (const i of failing) {
    const t = createHttpTransport({ url: server.url, caPem: server.caPem, maxSockets: 2 });
    fleet.ownConnection(i, t);
    b.ownTransports.push(t);
  }
  const viaPage: number[] = [];
  const viaAdmin: number[] = [];
  await Promise.all(failing.map((i, j) => fixOne(b, i, j, viaPage, viaAdmin)));
  viaPage.sort((x, y) => x - y);
  viaAdmin.sort((x, y) => x - y);
  const paceSeconds = (performance.now() - paceT0) / 1000;
  const paceCores = (cpuMs(server.pid) - paceCpu0) / 1000 / paceSeconds;
  const paceReadsPerSec = (endpoints(b).read.ok - paceReads0) / paceSeconds;
  const paceLogsPerSec = (endpoints(b).log.ok - paceLogs0) / paceSeconds;
  clock.pause();
  await waitQuiet(b);
  return { viaPage, viaAdmin, paceSeconds, paceCores, paceReadsPerSec, paceLogsPerSec };
}
