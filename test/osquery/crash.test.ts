/**
 * "Acknowledged means durable": a server process is SIGKILLed while agents stream log batches; after a
 * restart on the same data dir, every batch that was answered {} is in the store.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT, packsScheduling } from '../support/server.js';
import { createClient } from '../support/http.js';
import { must } from '../support/must.js';
import { enrollFrom } from './agent.js';

async function startProcess(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'server/cli/bin.js'), 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buf}`)), 30_000);
    must(child.stdout, "the server's stdout pipe").on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"event":"server.ready","url":"https:\/\/[^:]+:(\d+)"/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${buf}`)));
  });
  return { child, port };
}

/** Log batches each agent sends at most (each its own scheduled query). */
const MAX_RUNS = 1000;

describe('durability across SIGKILL', function () {
  this.timeout(90_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trustgate-crash-'));
  const env = {
    TRUSTGATE_PORT: '0',
    TRUSTGATE_HOST: '127.0.0.1',
    TRUSTGATE_DATA_DIR: path.join(root, 'data'),
    TRUSTGATE_CERTS_DIR: path.join(root, 'certs'),
    // every query the agents report is scheduled (results of others are not stored)
    TRUSTGATE_PACKS_DIR: packsScheduling({
      crash: Array.from({ length: 4 * MAX_RUNS }, (_, k) => `q${Math.floor(k / MAX_RUNS)}_${k % MAX_RUNS}`),
    }),
    TRUSTGATE_LOG_LEVEL: 'info',
  };

  it('keeps every acknowledged log batch after the server is killed mid-stream', async () => {
    let { child, port } = await startProcess(env);
    const ca = fs.readFileSync(path.join(root, 'certs/ca.crt'), 'utf8');
    const secret = fs.readFileSync(path.join(root, 'data/enroll_secret'), 'utf8').trim();
    let client = createClient(`https://127.0.0.1:${port}`, ca);
    const agents = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        enrollFrom(client, secret, 'enroll-request-linux-ubuntu20.04-osquery5.0.1.json', {
          serial: `CRASH-${i}`,
          uuid: `uuid-crash-${i}`,
        }),
      ),
    );
    const acked = new Set<string>();
    let sent = 0;
    let stop = false;
    const streams = agents.map(async (a, i) => {
      for (let n = 0; !stop && n < MAX_RUNS; n++) {
        const name = `pack/crash/q${i}_${n}`;
        sent++;
        try {
          const r = await a.post('/log', {
            log_type: 'result',
            data: [
              {
                snapshot: [{ n: String(n), agent: String(i) }],
                action: 'snapshot',
                name,
                hostIdentifier: 'h',
                calendarTime: 'x',
                unixTime: 1700000000 + n,
                epoch: 0,
                counter: 0,
              },
            ],
          });
          if (r.status === 200 && JSON.stringify(r.json) === '{}') acked.add(`${a.serial}|crash/q${i}_${n}`);
        } catch {
          return; // connection died with the server
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(streams);
    client.close();
    expect(acked.size, 'some batches were acknowledged before the kill').to.be.greaterThan(10);

    ({ child, port } = await startProcess(env));
    try {
      client = createClient(`https://127.0.0.1:${port}`, ca);
      const ready = await client.request('/readyz');
      expect(ready.status).to.equal(200);
      const db = new Database(path.join(root, 'data/trustgate.db'), { readonly: true });
      const stored = new Set(
        db
          .prepare<[], { serial: string; query_key: string }>(
            'SELECT h.serial, r.query_key FROM latest_results r JOIN hosts h ON h.id = r.host_id',
          )
          .all()
          .map((r) => `${r.serial}|${r.query_key}`),
      );
      db.close();
      const lost = [...acked].filter((k) => !stored.has(k));
      expect(lost, `acknowledged but lost (of ${acked.size} acked, ${sent} sent)`).to.deep.equal([]);
      // the restarted server still knows the agents by their node keys
      const r = await client.request('/api/v1/osquery/config', {
        body: { node_key: must(agents[0], 'an agent').nodeKey },
      });
      expect(r.status).to.equal(200);
    } finally {
      client.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.kill('SIGTERM')) await exited;
    }
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));
});
