/**
 * The keyed audit chain (issue #15 item 2), on the real server and its real SQLite file: someone who can
 * write the database but not read the audit key re-chains an edit, deletes and renumbers, downgrades the
 * whole log to unkeyed hashes, or cuts the tail. Each is caught by `GET /api/v1/audit/verify` and
 * `trustgate audit verify` (the tail cut with `--anchor` / `?anchor=`, a head saved elsewhere).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT, startTestServer, type TestServer } from '../support/server.js';
import { hashAuditEntry, GENESIS_HASH } from '../../server/domain/audit-hash.js';
import { anchorText, verifyChain } from '../../server/audit/chain.js';
import { startHeadPublisher } from '../../server/audit/publish.js';
import type { AuditEntry } from '../../server/domain/types.js';
import { createLogger } from '../../server/shared/log.js';

interface Row {
  seq: number;
  at: number;
  type: string;
  actor: string;
  serial: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

describe('keyed audit chain: rewrites by whoever writes the database file (real server)', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let original: Row[];
  let anchor: string;

  const db = () => new Database(path.join(ts.dataDir, 'trustgate.db'));
  const rows = (): Row[] => {
    const d = db();
    const out = d.prepare<[], Row>('SELECT * FROM audit_log ORDER BY seq').all();
    d.close();
    return out;
  };
  /** Replaces the whole log, as an attacker with write access to the file can. */
  const write = (next: readonly Row[]) => {
    const d = db();
    d.transaction(() => {
      d.prepare('DELETE FROM audit_log').run();
      const ins = d.prepare(
        'INSERT INTO audit_log (seq, at, type, actor, serial, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of next) ins.run(r.seq, r.at, r.type, r.actor, r.serial, r.data, r.prev_hash, r.hash);
    })();
    d.close();
  };
  /** Re-chains from `from` on without the key (plain SHA-256, or an HMAC under a guessed key). */
  const rechain = (list: Row[], from: number, guessedKey?: Buffer): Row[] => {
    let prev = from === 0 ? GENESIS_HASH : (list[from - 1] as Row).hash;
    return list.map((r, i) => {
      if (i < from) return r;
      const e = { ...r, data: JSON.parse(r.data) as unknown, prevHash: prev };
      const hash = hashAuditEntry(e, guessedKey);
      prev = hash;
      return { ...r, prev_hash: e.prevHash, hash };
    });
  };
  const apiVerify = async (a?: string) =>
    (
      await ts.client.request(`/api/v1/audit/verify${a ? `?anchor=${encodeURIComponent(a)}` : ''}`, {
        token: ts.adminToken,
      })
    ).json as { ok: boolean; seq?: number; problem?: string; count?: number; legacy?: number; head: unknown };
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server/cli/bin.js'), 'audit', 'verify', ...args], {
      env: { ...process.env, TRUSTGATE_DATA_DIR: ts.dataDir, TRUSTGATE_PACKS_DIR: ts.packsDir },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  before(async () => {
    ts = await startTestServer();
    for (let i = 0; i < 4; i++) {
      const r = await ts.client.request('/api/v1/tokens', {
        token: ts.adminToken,
        body: { name: `t${i}`, role: 'viewer' },
      });
      expect(r.status, r.text).to.equal(201);
    }
    original = rows();
    expect(original.length).to.be.greaterThan(4);
    expect(original.every((r) => r.hash.startsWith('hmac:'))).to.equal(true);
    const v = await apiVerify();
    expect(v).to.include({ ok: true, count: original.length, legacy: 0 });
    anchor = anchorText(v.head as { seq: number; hash: string });
  });
  after(() => ts.stop());
  afterEach(() => write(original));

  it('the intact log verifies, with and without the saved head (API and CLI)', async () => {
    expect((await apiVerify(anchor)).ok).to.equal(true);
    const r = cli(['--anchor', anchor]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/intact: \d+ entries, consistent with head/);
  });

  it('catches an edited entry re-chained without the key (SHA-256, or an HMAC under a guessed key)', async () => {
    const edited = original.map((r, i) => (i === 2 ? { ...r, actor: 'mallory' } : r));
    write(rechain(edited, 2));
    expect(await apiVerify()).to.include({ ok: false, seq: 3 });
    write(rechain(edited, 2, Buffer.from('a guessed key, not the audit key')));
    expect(await apiVerify()).to.include({ ok: false, seq: 3 });
    const r = cli([]);
    expect(r.code).to.equal(1);
    expect(r.out).to.contain('BROKEN at entry 3');
  });

  it('catches a deleted entry with the rest renumbered and re-chained', async () => {
    const cut = original.filter((_, i) => i !== 1).map((r, i) => ({ ...r, seq: i + 1 }));
    write(rechain(cut, 1));
    expect(await apiVerify()).to.include({ ok: false, seq: 2 });
    expect(cli([]).code).to.equal(1);
  });

  it('catches the whole log downgraded to unkeyed hashes', async () => {
    write(rechain(original, 0));
    const v = await apiVerify();
    expect(v.ok).to.equal(false);
    expect(v.problem).to.match(/not keyed/);
  });

  it('catches a cut tail against the saved head (API ?anchor= and CLI --anchor)', async () => {
    write(original.slice(0, -2));
    expect((await apiVerify()).ok, 'a shorter chain is still a chain').to.equal(true);
    const v = await apiVerify(anchor);
    expect(v).to.include({ ok: false, seq: original.length - 1 });
    expect(v.problem).to.match(/truncated/);
    const r = cli(['--anchor', anchor]);
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/truncated/);
  });

  it('refuses a malformed anchor (400 / usage error)', async () => {
    const r = await ts.client.request('/api/v1/audit/verify?anchor=12:nothex', { token: ts.adminToken });
    expect(r.status).to.equal(400);
    expect(cli(['--anchor', 'HEAD']).code).to.equal(2);
  });
});

describe('legacy (pre-keying) entries and the published head', () => {
  const key = Buffer.from('k'.repeat(32));
  const entry = (seq: number, prevHash: string, k?: Buffer): AuditEntry => {
    const e = { seq, at: 1000 + seq, type: 't', actor: 'a', serial: null, data: { n: seq }, prevHash };
    return { ...e, hash: hashAuditEntry(e, k) };
  };
  const chainOf = (keyed: boolean[]): AuditEntry[] => {
    const out: AuditEntry[] = [];
    keyed.forEach((k, i) => out.push(entry(i + 1, out[i - 1]?.hash ?? GENESIS_HASH, k ? key : undefined)));
    return out;
  };

  it('verifies unkeyed entries as a prefix of keyed ones, and counts them', () => {
    expect(verifyChain(chainOf([false, false, true, true]), undefined, key)).to.deep.equal({
      ok: true,
      count: 4,
      legacy: 2,
    });
  });

  it('refuses an unkeyed entry after a keyed one, and keyed entries without the key', () => {
    expect(verifyChain(chainOf([false, true, false, true]), undefined, key)).to.include({ ok: false, seq: 3 });
    expect(verifyChain(chainOf([true]))).to.include({ ok: false, seq: 1 });
  });

  it('publishes the head as a log line and a webhook message, again only when it moved', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('info', { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
    const sent: string[] = [];
    let head = { seq: 7, hash: `hmac:${'a'.repeat(64)}` };
    const p = startHeadPublisher({ head: async () => head, log, notify: (t) => sent.push(t), intervalMs: 0 });
    await p.publish();
    await p.publish();
    head = { seq: 8, hash: `hmac:${'b'.repeat(64)}` };
    await p.publish();
    p.stop();
    const heads = lines.filter((l) => l.event === 'audit.head').map((l) => l.anchor);
    expect(heads).to.deep.equal([`7:hmac:${'a'.repeat(64)}`, `8:hmac:${'b'.repeat(64)}`]);
    expect(sent).to.have.length(2);
    expect(sent[1]).to.contain(`--anchor 8:hmac:${'b'.repeat(64)}`);
  });
});
