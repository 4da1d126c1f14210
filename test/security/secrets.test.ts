/**
 * Issue #15 item 6: the webhook URL is a secret and a request the server makes. Over real HTTPS: viewers
 * read the policy (and its audit entries) with the webhook redacted; a policy whose webhook points at
 * loopback, link-local or private addresses is refused unless TRUSTGATE_WEBHOOK_ALLOW_PRIVATE=true;
 * packs/policy.yaml is written 0600; a notifier refuses to deliver to such an address (a real receiver on
 * loopback gets nothing) unless allowed.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createWebhookNotifier } from '../../server/breakglass/webhook.js';
import { createLogger } from '../../server/shared/log.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET_HOOK = 'https://93.184.216.34/services/T000/B000/XXXXSECRETXXXX';
const policyWith = (ts: TestServer, extra: string): string =>
  `${fs.readFileSync(path.join(ts.packsDir, 'policy.yaml'), 'utf8')}\n${extra}\n`;

describe('webhook secrets and targets, policy file mode (issue #15, item 6)', function () {
  this.timeout(60_000);

  describe('default settings', () => {
    let ts: TestServer;
    let viewer: string;
    before(async () => {
      ts = await startTestServer();
      const r = await ts.client.request('/api/v1/tokens', {
        token: ts.adminToken,
        body: { name: 'viewer', role: 'viewer' },
      });
      viewer = (r.json as { token: string }).token;
    });
    after(async () => ts.stop());

    it('writes the policy 0600 and shows its webhook to admins only (policy and audit)', async () => {
      const file = path.join(ts.packsDir, 'policy.yaml');
      fs.chmodSync(file, 0o644);
      const put = await ts.client.request('/api/v1/policy', {
        method: 'PUT',
        token: ts.adminToken,
        body: { text: policyWith(ts, `webhook: ${SECRET_HOOK}`), format: 'yaml' },
      });
      expect(put.status, put.text).to.equal(200);
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
      const asAdmin = await ts.client.request('/api/v1/policy', { token: ts.adminToken });
      expect((asAdmin.json as { webhook: string }).webhook).to.equal(SECRET_HOOK);
      const asViewer = await ts.client.request('/api/v1/policy', { token: viewer });
      expect(asViewer.status).to.equal(200);
      expect(asViewer.text).to.not.contain('SECRET');
      expect((asViewer.json as { webhook: string }).webhook).to.equal('[redacted]');
      const audit = await ts.client.request('/api/v1/audit?type=admin.policy.put', { token: viewer });
      expect(audit.status, audit.text).to.equal(200);
      expect(audit.text).to.contain('admin.policy.put');
      expect(audit.text).to.not.contain('SECRET');
    });

    for (const [where, url] of [
      ['webhook', 'http://127.0.0.1:9/hook'],
      ['webhook', 'http://169.254.169.254/latest/meta-data/'],
      ['webhook', 'http://[::1]:8080/x'],
      ['webhook', 'http://localhost/x'],
      ['break_glass', 'http://10.0.0.7/x'],
      ['break_glass', 'http://192.168.1.1/x'],
    ] as const) {
      it(`refuses a policy whose ${where} webhook is ${url} (400, policy unchanged)`, async () => {
        const before = (await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json as Record<
          string,
          unknown
        >;
        const doc = structuredClone(before);
        if (where === 'webhook') doc.webhook = url;
        else doc.break_glass = { ...(doc.break_glass as object), webhook: url };
        const r = await ts.client.request('/api/v1/policy', { method: 'PUT', token: ts.adminToken, body: doc });
        expect(r.status, r.text).to.equal(400);
        expect(r.text).to.contain('TRUSTGATE_WEBHOOK_ALLOW_PRIVATE');
        expect((await ts.client.request('/api/v1/policy', { token: ts.adminToken })).json).to.deep.equal(before);
      });
    }
  });

  it('accepts a loopback webhook when TRUSTGATE_WEBHOOK_ALLOW_PRIVATE=true', async () => {
    const ts = await startTestServer({ env: { TRUSTGATE_WEBHOOK_ALLOW_PRIVATE: 'true' } });
    try {
      const r = await ts.client.request('/api/v1/policy', {
        method: 'PUT',
        token: ts.adminToken,
        body: { text: policyWith(ts, 'webhook: http://127.0.0.1:9/hook'), format: 'yaml' },
      });
      expect(r.status, r.text).to.equal(200);
    } finally {
      await ts.stop();
    }
  });

  it('a notifier delivers nothing to a loopback receiver unless allowed', async () => {
    const got: string[] = [];
    const server = http.createServer((req, res) => {
      got.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    try {
      const refused = createWebhookNotifier({ fetch: (u, i) => fetch(u, i), log, attempts: 1 });
      expect(await refused.send(url, { text: 'x' })).to.equal(false);
      expect(got).to.deep.equal([]);
      expect(lines.join('')).to.contain('webhook.refused');
      const allowed = createWebhookNotifier({ fetch: (u, i) => fetch(u, i), log, attempts: 1, allowPrivate: true });
      expect(await allowed.send(url, { text: 'x' })).to.equal(true);
      expect(got).to.deep.equal(['/hook']);
    } finally {
      server.close();
    }
  });
});
