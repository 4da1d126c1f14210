import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { breakGlassMessage, createWebhookNotifier } from '../../server/breakglass/webhook.js';
import { silentLogger } from '../../server/shared/log.js';
import type { BreakGlassGrant } from '../../server/domain/types.js';

const grant: BreakGlassGrant = {
  id: 'bg_1',
  serial: 'C02XX',
  user: 'alice',
  resource: 'prod-db',
  tier: 'high',
  reason: 'INC-1 <script> & more',
  durationMs: 3_600_000,
  status: 'pending',
  createdAt: 0,
  activatedAt: null,
  expiresAt: null,
  requestedBy: 'alice',
  approvedBy: null,
  revokedBy: null,
  reviewedBy: null,
  reviewedAt: null,
  decisionComment: null,
};

/** A local webhook receiver answering the given statuses in turn (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; bodies: unknown[]; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('createWebhookNotifier', () => {
  const delays: number[] = [];
  const sleep = async (ms: number) => {
    delays.push(ms);
  };
  beforeEach(() => {
    delays.length = 0;
  });

  it('posts Slack-compatible JSON to a local receiver', async () => {
    const r = await receiver([]);
    const n = createWebhookNotifier({ fetch, log: silentLogger(), allowPrivate: true, sleep });
    const msg = breakGlassMessage('requested', grant, { actor: 'alice', resourceTitle: 'Production database' });
    expect(await n.send(r.url, msg)).to.equal(true);
    expect(r.bodies).to.deep.equal([JSON.parse(JSON.stringify(msg))]);
    const body = r.bodies[0] as { text: string; blocks: unknown[] };
    expect(body.text).to.contain('Emergency access requested by alice for Production database (prod-db)');
    expect(JSON.stringify(body.blocks)).to.contain('INC-1 &lt;script&gt; &amp; more');
    await r.close();
  });

  it('retries failures with exponential backoff until delivered', async () => {
    const r = await receiver([500, 503, 429]);
    const n = createWebhookNotifier({ fetch, log: silentLogger(), allowPrivate: true, sleep, baseDelayMs: 100 });
    expect(await n.send(r.url, { text: 'x' })).to.equal(true);
    expect(r.bodies).to.have.length(4);
    expect(delays).to.deep.equal([100, 200, 400]);
    await r.close();
  });

  it('gives up after the attempts without throwing when the receiver is down', async () => {
    const r = await receiver([]);
    await r.close();
    const n = createWebhookNotifier({
      fetch,
      log: silentLogger(),
      allowPrivate: true,
      sleep,
      attempts: 3,
      baseDelayMs: 10,
    });
    expect(await n.send(r.url, { text: 'x' })).to.equal(false);
    expect(delays).to.deep.equal([10, 20]);
  });

  it('does not retry a permanent 4xx answer', async () => {
    const r = await receiver([404]);
    const n = createWebhookNotifier({ fetch, log: silentLogger(), allowPrivate: true, sleep });
    expect(await n.send(r.url, { text: 'x' })).to.equal(false);
    expect(r.bodies).to.have.length(1);
    await r.close();
  });

  it('returns before delivery finishes, so callers are never blocked', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls: string[] = [];
    const n = createWebhookNotifier({
      fetch: async (url) => {
        calls.push(url);
        await gate;
        return { ok: true, status: 200 };
      },
      allowPrivate: true,
      log: silentLogger(),
      sleep,
    });
    let done = false;
    void n.send('http://127.0.0.1:1/x', { text: 'x' }).then(() => {
      done = true;
    });
    expect(done).to.equal(false);
    release();
    await n.idle();
    expect(done).to.equal(true);
    expect(calls).to.deep.equal(['http://127.0.0.1:1/x']);
  });
});
