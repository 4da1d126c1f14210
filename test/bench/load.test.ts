/** The bench's paced load with a second server interleaved: over real HTTPS, to two real servers. */
import { expect } from 'chai';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runLoadHere } from '../../server/bench/load.js';
import { abba } from '../../server/bench/loops.js';
import { generateDevCerts } from '../../server/http/tls.js';

describe('bench paced load, two servers interleaved', function () {
  this.timeout(20_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-load-'));
  const arrivals: string[] = [];
  const servers: https.Server[] = [];
  let caPem = '';

  /** A server that notes `name` for every request it is sent, in arrival order across both servers. */
  async function start(name: string, keyPem: string, certPem: string): Promise<string> {
    const s = https.createServer({ key: keyPem, cert: certPem }, (_req, res) => {
      arrivals.push(name);
      res.end('ok');
    });
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  after(() => {
    servers.forEach((s) => s.closeAllConnections());
    servers.forEach((s) => s.close());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends each server its share in slices taken in turn (A, B, B, A) and measures each apart', async () => {
    const pem = generateDevCerts(dir);
    caPem = pem.caPem;
    const [a, b] = [await start('A', pem.keyPem, pem.certPem), await start('B', pem.keyPem, pem.certPem)];
    const rate = 400;
    const r = await runLoadHere({
      kind: 'paced',
      rate,
      seconds: 0.5, // each server's share: 200 requests, in slices of 50
      url: a,
      caPem,
      headers: {},
      paths: ['/'],
      alternate: { url: b, headers: {}, paths: ['/'], sliceSeconds: 0.125 },
    });
    // one uncounted second per server first (its connections opened), A's then B's
    expect(arrivals.slice(0, rate).every((x) => x === 'A')).to.equal(true);
    expect(arrivals.slice(rate, 2 * rate).every((x) => x === 'B')).to.equal(true);
    const measured = arrivals.slice(2 * rate);
    expect(measured.filter((x) => x === 'A')).to.have.length(200);
    expect(measured.filter((x) => x === 'B')).to.have.length(200);
    // slice by slice (requests to two servers sent in one tick may arrive in either order: the majority)
    const slices = Array.from({ length: 8 }, (_, k) => measured.slice(k * 50, (k + 1) * 50));
    const majority = slices.map((s) => (s.filter((x) => x === 'B').length > 25 ? 1 : 0));
    expect(majority).to.deep.equal(Array.from({ length: 8 }, (_, k) => abba(k)));
    expect(r.non2xx).to.equal(0);
    expect(r.alternate?.non2xx).to.equal(0);
    expect(r.p99).to.be.a('number').and.be.greaterThan(0);
    expect(r.alternate?.p99).to.be.a('number').and.be.greaterThan(0);
  });
});
