/**
 * The first start as `trustgate serve` runs it (control/bootstrap.ts, cli/banner.ts, main.ts): the
 * one-time admin token goes to a 0600 file in the data directory and into the banner only on a terminal;
 * the banner's next steps carry the server's settings; a stop logs why and what it flushed.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config/load.js';
import { startServer } from '../../server/main.js';
import { createLogger } from '../../server/shared/log.js';
import { createClient } from '../support/http.js';
import { REPO_PACKS } from '../support/server.js';

describe('first start', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-first-start-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const config = () =>
    loadConfig({
      TRUSTGATE_PORT: '0',
      TRUSTGATE_HOST: '127.0.0.1',
      TRUSTGATE_DATA_DIR: path.join(root, 'data'),
      TRUSTGATE_CERTS_DIR: path.join(root, 'certs'),
      TRUSTGATE_PACKS_DIR: REPO_PACKS,
      TRUSTGATE_DURABLE_FSYNC: 'false',
    });

  it('writes the admin token to data/admin_token (0600), prints only where it is, and says it once', async () => {
    const printed: string[] = [];
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) });
    const server = await startServer(config(), { log, print: (s) => printed.push(s) });
    const file = path.join(root, 'data', 'admin_token');
    const token = fs.readFileSync(file, 'utf8').trim();
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(token).to.equal(server.adminToken);
    const banner = printed.join('\n');
    expect(banner).to.contain(`Admin API token: in ${file} (0600`);
    expect(banner).to.not.contain(token);
    expect(lines.join('')).to.not.contain(token);
    // next steps with this server's settings (its data and certs directories are not the defaults)
    expect(banner).to.contain(`export TRUSTGATE_DATA_DIR=${path.join(root, 'data')}`);
    expect(banner).to.contain(`TRUSTGATE_CERTS_DIR=${path.join(root, 'certs')}`);
    expect(banner).to.contain('npx trustgate token create --role gateway --name gateway');
    expect(banner).to.contain('npx trustgate simulate --hosts 20');
    expect(banner).to.contain(`curl --cacert ${path.join(root, 'certs', 'ca.crt')} -H "Authorization: Bearer TOKEN"`);
    expect(banner).to.contain('/api/v1/verdict?serial=SERIAL&resource=prod-db&user=alice');

    const client = createClient(
      server.url.replace('localhost', '127.0.0.1'),
      fs.readFileSync(path.join(root, 'certs', 'ca.crt'), 'utf8'),
    );
    expect((await client.request('/api/v1/hosts', { token })).status).to.equal(200);
    client.close();

    await server.stop('SIGTERM');
    const events = lines.map((l) => JSON.parse(l) as { event?: string; reason?: string; flushed?: object });
    expect(events.find((e) => e.event === 'server.stopping')).to.include({ reason: 'SIGTERM' });
    expect(events.find((e) => e.event === 'server.stopped')?.flushed).to.have.keys([
      'lastSeen',
      'checkStates',
      'auditEvents',
    ]);

    const again: string[] = [];
    const second = await startServer(config(), { log: createLogger('silent'), print: (s) => again.push(s) });
    await second.stop();
    expect(again, 'later starts print nothing').to.deep.equal([]);
    expect(fs.readFileSync(file, 'utf8').trim()).to.equal(token);
  });

  it('shows the admin token in the banner when it goes to a terminal', async () => {
    const printed: string[] = [];
    const server = await startServer(config(), {
      log: createLogger('silent'),
      print: (s) => printed.push(s),
      terminal: true,
    });
    await server.stop();
    expect(printed.join('\n')).to.contain(`│   ${server.adminToken ?? 'a token'}`);
  });
});
