/**
 * The certificate → device index (devices/cert-index.ts) as a unit: which sources map, what maps to nobody
 * (two devices, revoked, expired, a report that does not name its reporter or comes from another CA), and
 * that enrollments and reports apply at once. The real path is test/gateway/request-identity.test.ts.
 */
import { expect } from 'chai';
import { createCertIndex, HOST_PAGE, type CertIndexDeps } from '../../server/devices/cert-index.js';
import { DEVICE_CERTS_QUERY_KEY } from '../../server/domain/device-certs-query.js';
import type { DeviceCertRecord, Host, LatestResult } from '../../server/domain/types.js';
import { silentLogger } from '../../server/shared/log.js';
import { issuedCert } from '../store/contract/support.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const CA = 'ab'.repeat(20);
const fp = (c: string, n = 40): string => c.repeat(n);

const issued = (sha: string, serial: string, over: Partial<DeviceCertRecord> = {}): DeviceCertRecord =>
  issuedCert(sha, serial, NOW, over);
const host = (id: number, serial: string, cert: Host['cert'] = null): Host =>
  ({ id, serial, enrollState: 'active', cert }) as Host;
const report = (hostId: number, rows: Array<Record<string, string>>): LatestResult =>
  ({ hostId, queryKey: DEVICE_CERTS_QUERY_KEY, rows, error: null }) as LatestResult;
const row = (sha1: string, cn: string, aki = CA) => ({
  sha1,
  common_name: cn,
  authority_key_id: aki,
  not_valid_after: String((NOW + 86_400_000) / 1000),
});

function index(over: Partial<CertIndexDeps> = {}) {
  return createCertIndex({
    issued: () => Promise.resolve([]),
    hosts: () => Promise.resolve([]),
    reported: () => Promise.resolve([]),
    reportedBy: () => Promise.resolve([]),
    caKeyIds: () => Promise.resolve([CA.toUpperCase().replace(/(..)(?!$)/g, '$1:')]),
    revoked: () => false,
    version: () => Promise.resolve(0),
    log: silentLogger(),
    ...over,
  });
}

describe('certificate index', () => {
  it('maps issued certificates by SHA-1 and SHA-256; revoked, expired and doubly claimed ones to nobody', async () => {
    const revoked = new Set<string>();
    const ix = index({
      issued: () =>
        Promise.resolve([
          issued('a', 'A'),
          issued('b', 'B', { revokedAt: NOW - 10 }),
          issued('c', 'C', { notAfter: NOW - 1 }),
          issued('d', 'D1'),
          issued('d', 'D2'),
        ]),
      revoked: (s) => revoked.has(s),
    });
    await ix.refresh();
    expect([ix.serialOf(fp('a'), NOW), ix.serialOf(fp('a', 64), NOW)]).to.deep.equal(['A', 'A']);
    expect(ix.serialOf(fp('b'), NOW)).to.equal(null);
    expect(ix.serialOf(fp('c'), NOW)).to.equal(null);
    expect(ix.serialOf(fp('d'), NOW)).to.equal(null);
    revoked.add(fp('a', 64)); // revoked in this process: refused before the next rebuild
    expect(ix.serialOf(fp('a'), NOW)).to.equal(null);
  });

  it('takes a report only when it names the reporter and comes from the device CA', async () => {
    const ix = index({
      hosts: () => Promise.resolve([host(1, 'ALICE'), host(2, 'BOB')]),
      reported: () =>
        Promise.resolve([
          report(1, [row(fp('1'), 'ALICE'), row(fp('3'), 'ALICE', 'cd'.repeat(20))]),
          report(2, [row(fp('1'), 'ALICE'), row(fp('2'), 'CAROL')]),
        ]),
    });
    await ix.refresh();
    expect(ix.serialOf(fp('1'), NOW)).to.equal('ALICE');
    expect(ix.serialOf(fp('2'), NOW), "a colleague's certificate").to.equal(null);
    expect(ix.serialOf(fp('3'), NOW), 'another CA').to.equal(null);
    expect(ix.serialOf(fp('1'), NOW + 2 * 86_400_000), 'expired').to.equal(null);
    ix.onResults(host(1, 'ALICE'), [report(1, [])]);
    expect(ix.serialOf(fp('1'), NOW), 'gone from the keychain').to.equal(null);
    ix.onResults(host(2, 'BOB'), [report(2, [row(fp('4'), 'BOB')])]);
    expect(ix.serialOf(fp('4'), NOW)).to.equal('BOB');
  });

  it('maps a revoked certificate to nobody even when a keychain still reports it', async () => {
    const ix = index({
      issued: () => Promise.resolve([issued('e', 'E', { revokedAt: NOW - 10 })]),
      hosts: () => Promise.resolve([host(5, 'E')]),
      reported: () => Promise.resolve([report(5, [row(fp('e'), 'E')])]),
    });
    await ix.refresh();
    expect(ix.serialOf(fp('e'), NOW)).to.equal(null);
  });

  it('re-reads the stored reports only when the device CA changed; a host no longer active loses its own', async () => {
    let hosts = [host(1, 'ALICE'), host(2, 'BOB')];
    let ca = CA;
    let reads = 0;
    const ix = index({
      hosts: () => Promise.resolve(hosts),
      caKeyIds: () => Promise.resolve([ca]),
      reported: () => {
        reads++;
        return Promise.resolve([report(1, [row(fp('1'), 'ALICE')]), report(2, [row(fp('2'), 'BOB')])]);
      },
      reportedBy: (id) => Promise.resolve(id === 1 ? [report(1, [row(fp('1'), 'ALICE')])] : []),
    });
    await ix.refresh();
    ix.onResults(host(2, 'BOB'), [report(2, [row(fp('2'), 'BOB'), row(fp('5'), 'BOB')])]);
    await ix.refresh();
    expect(reads, 'the reports ingested here are current: not read again').to.equal(1);
    expect([ix.serialOf(fp('1'), NOW), ix.serialOf(fp('5'), NOW)]).to.deep.equal(['ALICE', 'BOB']);

    hosts = [host(2, 'BOB')]; // ALICE held (or unenrolled) by another process
    await ix.refresh();
    expect(ix.serialOf(fp('1'), NOW), "a held host's report").to.equal(null);
    expect(ix.serialOf(fp('2'), NOW)).to.equal('BOB');

    hosts = [host(1, 'ALICE'), host(2, 'BOB')]; // approved again: its stored report maps again
    await ix.refresh();
    expect(ix.serialOf(fp('1'), NOW)).to.equal('ALICE');
    expect(reads, 'read for that host alone').to.equal(1);

    ca = 'cd'.repeat(20); // another device CA: every stored report is judged again, under it
    await ix.refresh();
    expect(reads).to.equal(2);
    expect(ix.serialOf(fp('2'), NOW), 'a report from the old CA').to.equal(null);
  });

  it("replaces a host's reported certificates on its next report, leaving another host's same one", async () => {
    const ix = index({ hosts: () => Promise.resolve([host(1, 'S'), host(2, 'S')]) });
    await ix.refresh();
    ix.onResults(host(1, 'S'), [report(1, [row(fp('9'), 'S')])]);
    ix.onResults(host(2, 'S'), [report(2, [row(fp('9'), 'S')])]);
    expect(ix.serialOf(fp('9'), NOW), 'two hosts of one serial report it').to.equal('S');
    ix.onResults(host(1, 'S'), [report(1, [])]);
    expect(ix.serialOf(fp('9'), NOW), "still in the other host's report").to.equal('S');
    ix.onResults(host(2, 'S'), [report(2, [])]);
    expect(ix.serialOf(fp('9'), NOW)).to.equal(null);
  });

  it("maps a host's bound certificate as soon as it enrolls", async () => {
    const ix = index();
    await ix.refresh();
    const cert = { sha256: fp('f', 64), sha1: fp('f'), serial: '0A', notAfter: NOW + 1000 };
    ix.noteHost(host(7, 'F', cert));
    expect([ix.serialOf(fp('f'), NOW), ix.serialOf(fp('f', 64), NOW)]).to.deep.equal(['F', 'F']);
    ix.noteHost({ ...host(8, 'G', cert) });
    expect(ix.serialOf(fp('f'), NOW), 'claimed by two devices').to.equal(null);
  });

  it('reads the active hosts a page at a time, and keeps an enrollment noted while it reads', async () => {
    const n = HOST_PAGE * 2 + 5;
    const all = Array.from({ length: n }, (_, i) =>
      host(i + 1, `H${i + 1}`, {
        sha256: fp('0', 56) + String(i + 1).padStart(8, '0'),
        sha1: '',
        serial: '01',
        notAfter: NOW + 1000,
      }),
    );
    const pages: number[] = [];
    const late = { sha256: fp('e', 64), sha1: fp('e'), serial: '0E', notAfter: NOW + 1000 };
    const ix = index({
      hosts: (afterId, limit) => {
        pages.push(afterId);
        // an enrollment in this process while the refresh is between pages
        if (pages.length === 2) ix.noteHost(host(n + 1, 'LATE', late));
        return Promise.resolve(all.filter((h) => h.id > afterId).slice(0, limit));
      },
    });
    await ix.refresh();
    expect(pages).to.deep.equal([0, HOST_PAGE, HOST_PAGE * 2]);
    expect(ix.serialOf(all[n - 1]?.cert?.sha256 ?? '', NOW), 'on the last page').to.equal(`H${n}`);
    expect(ix.serialOf(fp('e'), NOW), 'noted during the refresh').to.equal('LATE');
  });

  it('runs one refresh at a time: one asked for meanwhile reads again after it', async () => {
    let reads = 0;
    let active = 0;
    let most = 0;
    const ix = index({
      hosts: async () => {
        reads++;
        most = Math.max(most, ++active);
        await new Promise((r) => setImmediate(r));
        active--;
        return [];
      },
    });
    await Promise.all([ix.refresh(), ix.refresh(), ix.refresh()]);
    expect(reads).to.equal(3);
    expect(most).to.equal(1);
  });

  it('refreshIfChanged() rebuilds only when the device-identity version or the device CA moved', async () => {
    let version = 7;
    let ca = CA;
    let hosts = [host(1, 'A', { sha256: fp('a', 64), sha1: fp('a'), serial: '01', notAfter: NOW + 1000 })];
    let reads = 0;
    const ix = index({
      version: () => Promise.resolve(version),
      caKeyIds: () => Promise.resolve([ca]),
      hosts: (afterId) => {
        if (afterId === 0) reads++;
        return Promise.resolve(hosts.filter((h) => h.id > afterId));
      },
    });
    await ix.refreshIfChanged();
    expect(reads, 'never built: builds').to.equal(1);
    await ix.refreshIfChanged();
    await ix.refreshIfChanged();
    expect(reads, 'nothing moved').to.equal(1);

    hosts = []; // unenrolled by another process, which moved the version
    version = 8;
    await ix.refreshIfChanged();
    expect(reads).to.equal(2);
    expect(ix.serialOf(fp('a'), NOW), "an unenrolled host's certificate").to.equal(null);

    ca = 'cd'.repeat(20); // the device CA replaced on disk
    await ix.refreshIfChanged();
    expect(reads).to.equal(3);
    await ix.refreshIfChanged();
    expect(reads).to.equal(3);
  });

  it('refreshIfChanged(): a change made during a rebuild, or a failed rebuild, is read at the next check', async () => {
    let version = 1;
    let fail = false;
    let reads = 0;
    const ix = index({
      version: () => Promise.resolve(version),
      hosts: () => {
        reads++;
        if (fail) return Promise.reject(new Error('database is locked'));
        version++; // another process commits while this rebuild reads
        return Promise.resolve([]);
      },
    });
    await ix.refresh();
    await ix.refreshIfChanged();
    expect(reads, 'the version read before the rebuild is the one recorded').to.equal(2);

    fail = true;
    version = 100;
    await ix.refreshIfChanged().catch(() => undefined);
    fail = false;
    await ix.refreshIfChanged();
    expect(reads, 'the failed rebuild recorded nothing').to.equal(4);
  });
});
