/**
 * The certificate index on a real SQLite file, with another process's changes (the CLI opens its own
 * connection to the same file): `refreshIfChanged()`, what the server's timer calls, picks up a host
 * unenrolled, held or approved, and a certificate issued, by that other connection, and reads nothing
 * while nothing changed. The index itself is tested as a unit in cert-index.test.ts; the triggers that
 * keep the version in the store contract (test/store/contract/devices.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openCertIndex } from '../../server/devices/open.js';
import type { Store } from '../../server/domain/ports.js';
import { silentLogger } from '../../server/shared/log.js';
import { createSqliteStore } from '../../server/store/index.js';
import { enrollHost, issuedCert, T0 } from '../store/contract/support.js';

const NOW = T0;
const bound = (c: string) => ({ sha256: c.repeat(64), sha1: c.repeat(40), serial: '0A', notAfter: NOW + 86_400_000 });

describe('certificate index: changes made by another process (real SQLite file)', () => {
  let dir: string;
  let server: Store;
  let cli: Store;
  let stop: (() => void) | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-certidx-'));
    server = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
    cli = createSqliteStore(path.join(dir, 'trustgate.db'), { durableFsync: false });
  });
  afterEach(async () => {
    stop?.();
    await server.close();
    await cli.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function open() {
    let pages = 0;
    const hosts: Store['hosts'] = {
      ...server.hosts,
      activeCerts: (page) => {
        pages++;
        return server.hosts.activeCerts(page);
      },
    };
    const certs = { issue: () => Promise.reject(new Error('not here')), revoke: () => Promise.resolve([]) };
    const opened = await openCertIndex(
      { certs: { ...certs, revoked: () => false } },
      { certsDir: dir },
      { ...server, hosts },
      silentLogger(),
    );
    stop = opened.stop;
    return { index: opened.index, pages: () => pages };
  }

  it('picks up what the other connection changed, and reads nothing while nothing did', async () => {
    const alice = await enrollHost(server, 'ALICE', { cert: bound('a') });
    const bob = await enrollHost(server, 'BOB', { cert: bound('b') });
    const { index, pages } = await open();
    expect([index.serialOf('a'.repeat(40), NOW), index.serialOf('b'.repeat(64), NOW)]).to.deep.equal(['ALICE', 'BOB']);
    const read = pages();

    await index.refreshIfChanged();
    await index.refreshIfChanged();
    expect(pages(), 'nothing changed: no host read').to.equal(read);

    await cli.hosts.unenroll(alice);
    await index.refreshIfChanged();
    expect(index.serialOf('a'.repeat(40), NOW), 'unenrolled by the CLI').to.equal(null);

    await cli.hosts.setEnrollState(bob, 'pending', 'serial_conflict');
    await index.refreshIfChanged();
    expect(index.serialOf('b'.repeat(40), NOW), 'held by the CLI').to.equal(null);
    await cli.hosts.setEnrollState(bob, 'active', null);
    await index.refreshIfChanged();
    expect(index.serialOf('b'.repeat(40), NOW), 'approved again').to.equal('BOB');

    await cli.deviceCerts.recordIssued(issuedCert('c', 'BOB', NOW));
    await index.refreshIfChanged();
    expect(index.serialOf('c'.repeat(64), NOW), 'issued by the CLI').to.equal('BOB');

    const after = pages();
    await server.hosts.touch([{ id: bob, at: NOW + 1 }]);
    await index.refreshIfChanged();
    expect(pages(), 'a last-seen time is no change to the index').to.equal(after);
  });
});
