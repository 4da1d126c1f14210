/**
 * The gateway's verdict API takes the person in its canonical form (domain/identity.ts) before the lookup,
 * so the decision log line and the verdict name one person however the gateway spelled the address: the bare
 * handler over a real HTTP server, a fake verdict source and a logger writing to memory.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createGatewayHandler } from '../../server/gateway/handler.js';
import type { VerdictSource } from '../../server/domain/verdict.js';
import { ManualClock } from '../../server/shared/clock.js';
import { createLogger } from '../../server/shared/log.js';

describe('gateway: the person on GET /api/v1/verdict', () => {
  it('looks up and logs the canonical person (trimmed, lower-cased e-mail; anything else is nobody)', async () => {
    const asked: Array<string | null> = [];
    const verdicts: VerdictSource = {
      verdict(serial, resource, user) {
        asked.push(user);
        return { kind: 'unknown_resource', resource };
      },
      bundleInChunks: () => Promise.resolve({ etag: '"x"', json: '{}', parts: [Buffer.from('{}')] }),
    };
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const handler = createGatewayHandler({
      verdicts,
      resourceForHost: () => undefined,
      serialOfCert: () => null,
      ssoUserHeader: 'X-Auth-Request-Email',
      authorize: async () => ({}),
      authorizeCached: () => ({}),
      renderError: () => ({ status: 404, body: '{}', headers: {} }),
      clock: new ManualClock(),
      log: createLogger('info', sink),
    });
    const server = http.createServer((req, res) => {
      if (!handler(req, res)) res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      for (const user of [' Bob@Example.COM ', 'bob']) {
        const q = new URLSearchParams({ serial: 'S1', resource: 'r', user });
        await fetch(`http://127.0.0.1:${port}/api/v1/verdict?${q}`);
      }
    } finally {
      server.close();
    }
    expect(asked).to.deep.equal(['bob@example.com', null]);
    const users = lines.map((l) => (JSON.parse(l) as { user?: unknown }).user);
    expect(users).to.deep.equal(['bob@example.com', null]);
  });
});
