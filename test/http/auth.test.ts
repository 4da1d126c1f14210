/**
 * Bearer-token authentication (http/auth.ts): the digest of a connection's header is kept for that
 * connection, and nothing else is: another header on the same connection is checked on its own, and a
 * token's validity (expiry of the cache entry, revocation) is looked up as before. Unit tests on a fake
 * token store and a manual clock; then the same through the real server, on one kept-alive connection.
 */
import { expect } from 'chai';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createTokenAuth } from '../../server/http/auth.js';
import { sameText, sha256Hex } from '../../server/shared/crypto.js';
import type { ApiToken } from '../../server/domain/types.js';
import { startTestServer, type TestServer } from '../support/server.js';

const GATEWAY = ['gateway'] as const;

describe('token authentication, per connection', () => {
  const valid = 'tg_g_valid_token_0000000000000000000000000000';
  const gw: ApiToken = { id: 7, name: 'gw', role: 'gateway', createdAt: 0, revokedAt: null, lastUsedAt: null };
  let now = 1_000_000;
  let active = new Map<string, ApiToken>();
  const auth = createTokenAuth({
    tokens: {
      findActiveByHash: (hash) => Promise.resolve(active.get(hash)),
      markUsed: () => Promise.resolve(),
    },
    clock: { now: () => now },
    cacheTtlMs: 5_000,
  });
  const request = (socket: object) => ({ socket }) as unknown as IncomingMessage;
  const bearer = (t: string) => `Bearer ${t}`;

  beforeEach(() => {
    active = new Map([[sha256Hex(valid), gw]]);
    auth.invalidate();
  });

  it('answers a connection whose header changed by the new header, not the previous one', async () => {
    const conn = request({});
    expect((await auth.authorize(bearer(valid), GATEWAY, conn)).name).to.equal('gw');
    expect(auth.authorizeCached(bearer(valid), GATEWAY, conn)?.name).to.equal('gw');
    // the same length, the last character changed: not cached, and refused by the store
    const forged = `${valid.slice(0, -1)}1`;
    expect(auth.authorizeCached(bearer(forged), GATEWAY, conn)).to.equal(undefined);
    let err: unknown;
    await auth.authorize(bearer(forged), GATEWAY, conn).catch((e: unknown) => (err = e));
    expect(err).to.have.property('code', 'unauthenticated');
    expect(() => auth.authorizeCached(bearer(forged), GATEWAY, conn)).to.throw(/missing or invalid bearer token/);
    // and back: the valid header is answered again on that connection
    expect(auth.authorizeCached(bearer(valid), GATEWAY, conn)?.name).to.equal('gw');
    expect(() => auth.authorizeCached(undefined, GATEWAY, conn)).to.throw(/missing or invalid bearer token/);
  });

  it("a revoked token stops at the cache's expiry on a connection that keeps sending it", async () => {
    const conn = request({});
    await auth.authorize(bearer(valid), GATEWAY, conn);
    active.clear(); // revoked in the store
    expect(auth.authorizeCached(bearer(valid), GATEWAY, conn)?.name, 'within the TTL').to.equal('gw');
    now += 5_001;
    expect(auth.authorizeCached(bearer(valid), GATEWAY, conn), 'past the TTL: asks the store').to.equal(undefined);
    let err: unknown;
    await auth.authorize(bearer(valid), GATEWAY, conn).catch((e: unknown) => (err = e));
    expect(err).to.have.property('code', 'unauthenticated');
  });

  it('sameText: equal strings only, whatever the position of a difference', () => {
    expect(sameText(valid, `${valid}`)).to.equal(true);
    expect(sameText(valid, `x${valid.slice(1)}`)).to.equal(false);
    expect(sameText(valid, `${valid.slice(0, -1)}x`)).to.equal(false);
    expect(sameText(valid, valid.slice(1))).to.equal(false);
    expect(sameText('', '')).to.equal(true);
  });
});

describe('token authentication on one kept-alive connection (real server)', function () {
  this.timeout(30_000);
  let ts: TestServer;
  before(async () => (ts = await startTestServer({ logLevel: 'silent' })));
  after(async () => ts.stop());

  it('a wrong token between two right ones on the same connection is refused, and the right one answered', async () => {
    const agent = new https.Agent({ ca: ts.caPem, keepAlive: true, maxSockets: 1 });
    const sockets = new Set<TLSSocket>();
    const get = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          `${ts.url}/api/v1/verdict?serial=NOPE&resource=prod-db`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            sockets.add(res.socket as TLSSocket);
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
      });
    const forged = `${ts.gatewayToken.slice(0, -1)}${ts.gatewayToken.endsWith('A') ? 'B' : 'A'}`;
    const statuses = [];
    for (const t of [ts.gatewayToken, ts.gatewayToken, forged, ts.gatewayToken, forged]) statuses.push(await get(t));
    agent.destroy();
    expect(statuses).to.deep.equal([200, 200, 401, 200, 401]);
    expect(sockets.size, 'every request on one connection').to.equal(1);
  });
});
