/**
 * Answers written together (shared/bare-http.ts createAnswerBatch): on a real HTTP server, every queued
 * answer reaches its own client with its own status, body and headers, in order on a keep-alive
 * connection; a client gone before the write costs nothing; a full queue is written at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createAnswerBatch } from '../../server/shared/bare-http.js';

interface Got {
  status: number;
  body: string;
  header: string | undefined;
}

function get(port: number, path: string, agent: http.Agent | false): Promise<Got> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, header: res.headers['x-n'] as string }));
      })
      .on('error', reject);
  });
}

/** A response that records what is written to it (for the queue's own rules; the real path is above them). */
function fakeRes(sent: string[], destroyed = false): http.ServerResponse {
  const res = {
    writableEnded: false,
    destroyed,
    statusCode: 0,
    setHeader: () => undefined,
    end: (b: string) => sent.push(b),
  };
  return res as unknown as http.ServerResponse;
}

describe('answers written together', () => {
  let server: http.Server;
  let port: number;
  let max = 64;
  let answer = createAnswerBatch(max).send;

  before(async () => {
    server = http.createServer((req, res) => {
      const n = (req.url ?? '').slice(1);
      answer(res, Number(n) % 2 ? 403 : 200, JSON.stringify({ n }), { 'X-N': n });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    answer = createAnswerBatch(max).send;
  });

  it('gives each of many concurrent clients its own answer', async () => {
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => get(port, `/${i}`, false)));
    got.forEach((g, i) => expect(g).to.deep.equal({ status: i % 2 ? 403 : 200, body: `{"n":"${i}"}`, header: `${i}` }));
  });

  it('answers a keep-alive connection in order', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => get(port, `/${i}`, agent)));
    agent.destroy();
    expect(got.map((g) => g.body)).to.deep.equal(Array.from({ length: 10 }, (_, i) => `{"n":"${i}"}`));
  });

  it("writes a turn's first answer at once and the next ones at the end of the turn", async () => {
    const sent: string[] = [];
    answer(fakeRes(sent), 200, 'a');
    answer(fakeRes(sent), 200, 'b');
    answer(fakeRes(sent), 200, 'c');
    expect(sent).to.deep.equal(['a']);
    await new Promise((r) => setImmediate(r));
    expect(sent).to.deep.equal(['a', 'b', 'c']);
    answer(fakeRes(sent), 200, 'd'); // a new turn
    expect(sent).to.deep.equal(['a', 'b', 'c', 'd']);
  });

  it('writes at once when the queue is full, before the loop turn ends', async () => {
    max = 2;
    answer = createAnswerBatch(max).send;
    const sent: string[] = [];
    answer(fakeRes(sent), 200, 'a');
    answer(fakeRes(sent), 200, 'b');
    expect(sent).to.deep.equal(['a']); // the first at once; b waits for the end of the turn
    answer(fakeRes(sent), 200, 'c');
    expect(sent).to.deep.equal(['a', 'b', 'c']); // two waiting: written now
    max = 64;
  });

  it('writes what waits when asked to, before other work', () => {
    const sent: string[] = [];
    const batch = createAnswerBatch();
    batch.send(fakeRes(sent), 200, 'a');
    batch.send(fakeRes(sent), 200, 'b');
    expect(sent).to.deep.equal(['a']);
    batch.flush();
    expect(sent).to.deep.equal(['a', 'b']);
  });

  it('skips a client that went away before its answer was written', async () => {
    const sent: string[] = [];
    answer(fakeRes(sent, true), 200, 'x');
    await new Promise((r) => setImmediate(r));
    expect(sent).to.deep.equal([]);
    const got = await get(port, '/4', false); // the server goes on answering
    expect(got.body).to.equal('{"n":"4"}');
  });
});
