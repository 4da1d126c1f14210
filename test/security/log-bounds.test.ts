/**
 * Issue #15 item 1: a request cannot make a log line as large as its body. An 8 KB gzip enroll body with an
 * 8 MB host_identifier is refused (401) and its log line stays small; every field is bounded in the
 * logger itself (server/shared/log.ts), so no call site can forget.
 */
import { expect } from 'chai';
import { createLogger, LOG_LIMITS } from '../../server/shared/log.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { OSQ } from '../osquery/agent.js';

describe('log lines are bounded (issue #15, item 1)', function () {
  this.timeout(60_000);
  let ts: TestServer;
  const lines: string[] = [];
  before(async () => {
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    ts = await startTestServer({ log, env: { TRUSTGATE_MAX_BODY_BYTES: String(16 * 1024 * 1024) } });
  });
  after(async () => ts.stop());

  it('an 8 MB host_identifier in an 8 KB gzip enroll body: 401 and a log line of a few KB', async () => {
    const huge = 'A'.repeat(8 * 1024 * 1024);
    const before = lines.length;
    const r = await ts.client.request(`${OSQ}/enroll`, {
      body: { enroll_secret: 'wrong', host_identifier: huge },
      gzip: true,
    });
    expect(r.status).to.equal(401);
    const written = lines.slice(before);
    const refused = written.find((l) => l.includes('host.enroll_refused'));
    expect(refused, 'the refusal is logged').to.be.a('string');
    for (const l of written) expect(l.length).to.be.below(16 * 1024);
    const entry = JSON.parse(refused ?? '{}') as { hostIdentifier: string };
    expect(entry.hostIdentifier.startsWith('AAAA')).to.equal(true);
    expect(entry.hostIdentifier).to.match(/more chars\]$/);
  });

  it('bounds nested values, long arrays, deep objects and error messages on any call', () => {
    const out: string[] = [];
    const log = createLogger('info', { write: (s: string) => void out.push(s) });
    const deep: Record<string, unknown> = {};
    let cur = deep;
    for (let i = 0; i < 5000; i++) cur = cur.next = {} as Record<string, unknown>;
    log.warn(
      { a: { b: 'x'.repeat(100_000) }, list: new Array(100_000).fill('y'), deep, err: new Error('e'.repeat(100_000)) },
      'm'.repeat(100_000),
    );
    expect(out).to.have.length(1);
    expect(out[0]?.length).to.be.below(20_000);
    const line = JSON.parse(out[0] ?? '{}') as { list: string[]; err: { message: string }; msg: string };
    expect(line.list).to.have.length(LOG_LIMITS.items + 1);
    expect(line.err.message.length).to.be.below(LOG_LIMITS.stringChars + 40);
    expect(line.msg.length).to.be.below(LOG_LIMITS.stringChars + 40);
  });
});
