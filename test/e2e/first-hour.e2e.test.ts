/**
 * The first hour, as a new user lives it (issue #14): a fresh checkout and a fresh data directory,
 * `npm start` as the README says, the first-start banner's next steps run exactly as printed, then
 * every command of the README's quick start and CLI sections as printed (TOKEN, SERIAL and FILE filled
 * in as the README says; the port is the one this test could get). It checks each point on the way:
 * the one-time admin token is in a 0600 file and nowhere in the output, a simulated device gets its
 * checks at enrollment and a complete verdict from their answers, `host --json` is the API's host
 * shape, `osquery-flags` is the template filled in, and SIGTERM logs the shutdown and what was flushed.
 * Timing is not asserted here: enrollment → first complete verdict is a bench row.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from '../support/http.js';
import { must } from '../support/must.js';
import { freePort } from './support/processes.js';
import {
  background,
  bannerCommands,
  cleanEnv,
  freshCheckout,
  readmeCommands,
  sh,
  type Running,
} from './support/first-hour.js';

const FLEET_FILE = 'test/fixtures/packs/fleet/standard-query-library.yml';

interface HostJson {
  serial: string;
  failing: boolean;
  enrolled_at: string;
  checks?: Array<{ check: string; status: string; observed_at: string | null }>;
}

describe('the first hour, from a fresh checkout (README quick start and CLI)', function () {
  this.timeout(600_000);
  let dir: string;
  let port: number;
  let server: Running;
  let admin: Client;
  let adminToken: string;
  let gatewayToken: string;
  let serial: string;
  const running: Running[] = [];

  before(async () => {
    dir = freshCheckout();
    port = await freePort();
  });
  after(async () => {
    admin?.close();
    for (const r of running.reverse()) await r.stop('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A command of the README or the banner as typed, in the checkout; it must succeed. */
  async function run(cmd: string, env = cleanEnv({ TRUSTGATE_PORT: String(port) })) {
    const r = await sh(cmd, dir, env);
    expect(r.code, `${cmd}\n${r.out}\n${r.err}`).to.equal(0);
    return r;
  }

  it('npm start: fresh data, the admin token only in data/admin_token (0600), a banner of next steps', async () => {
    expect(fs.existsSync(path.join(dir, 'data'))).to.equal(false);
    // `npm install` is the checkout's linked node_modules; the README's first command is then `npm start`
    const [first] = readmeCommands(
      fs.readFileSync(path.join(dir, 'README.md'), 'utf8'),
      '## Quick start (two commands)',
    );
    expect(first).to.equal('npm install && npm start');
    server = background('npm start', dir, cleanEnv({ TRUSTGATE_PORT: String(port) }));
    running.push(server);
    await server.waitFor(/└─/);
    await server.waitFor(/"event":"server.ready"/);
    // jemalloc is installed (.ci/run: libjemalloc2), so `npm start` runs the server on it (server/cli/start.sh)
    expect(server.out()).to.match(/"event":"server.ready"[^\n]*"allocator":"jemalloc"/);
    const file = path.join(dir, 'data', 'admin_token');
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    adminToken = fs.readFileSync(file, 'utf8').trim();
    expect(adminToken).to.match(/^tg_a_/);
    expect(server.out() + server.err(), 'the token is in no output (stderr is not a terminal)').to.not.contain(
      adminToken,
    );
    expect(server.err()).to.contain(`Admin API token: in ${file} (0600`);
    admin = createClient(`https://127.0.0.1:${port}`, fs.readFileSync(path.join(dir, 'certs', 'ca.crt'), 'utf8'));
    expect((await admin.request('/api/v1/hosts', { token: adminToken })).status).to.equal(200);
  });

  it("runs the banner's next steps as printed: a gateway token, simulated laptops, decisions, a verdict", async () => {
    const { exportLine, steps } = bannerCommands(server.err());
    expect(exportLine, 'the port is not the default, so the banner exports it').to.equal(
      `export TRUSTGATE_PORT=${port}`,
    );
    expect(steps).to.have.length(4);
    const env = cleanEnv(); // a new terminal: nothing but what the banner says to export
    const as = (cmd: string) => `${exportLine}; ${cmd}`;
    const [tokenCmd, simulateCmd, hostsCmd, curlCmd] = [0, 1, 2, 3].map((i) => must(steps[i], `step ${i + 1}`)) as [
      string,
      string,
      string,
      string,
    ];

    gatewayToken = must(/tg_g_\S+/.exec((await run(as(tokenCmd), env)).out)?.[0], 'the gateway token');
    const sim = background(as(simulateCmd), dir, env);
    running.push(sim);
    await sim.waitFor(/enrolled 20\/20/);
    let hosts: string[] = [];
    for (let i = 0; i < 60 && hosts.length < 20; i++) {
      hosts = (await run(as(hostsCmd), env)).out
        .split('\n')
        .filter((l) => !l.startsWith('SERIAL') && /\s(FAILING|ok)(\s|$)/.test(l));
      if (hosts.length < 20) await new Promise((r) => setTimeout(r, 500));
    }
    expect(hosts).to.have.length(20);
    serial =
      must(
        hosts.find((l) => /\sFAILING\s/.test(l)),
        'a failing host',
      ).split(/\s+/)[0] ?? '';
    const curl = await run(as(curlCmd.replace('TOKEN', gatewayToken).replace('SERIAL', serial)), env);
    const verdict = JSON.parse(curl.out) as { serial: string; decision: string; remediation_page: string | null };
    expect(verdict).to.include({ serial, decision: 'deny' });
    expect(verdict.remediation_page).to.match(new RegExp(`^https://localhost:${port}/device\\?t=`));
  });

  it('gives a simulated device its checks at enrollment, and a complete verdict from their answers', async () => {
    const list = (await admin.request('/api/v1/hosts', { token: adminToken })).json as { hosts: HostJson[] };
    expect(list.hosts).to.have.length(20);
    for (const h of list.hosts) {
      let detail: HostJson | undefined;
      for (let i = 0; i < 120; i++) {
        detail = ((await admin.request(`/api/v1/hosts/${h.serial}`, { token: adminToken })).json as { host: HostJson })
          .host;
        if (detail.checks?.every((c) => c.status !== 'unknown')) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const checks = must(detail?.checks, 'checks');
      expect(
        checks.filter((c) => c.status === 'unknown').map((c) => c.check),
        h.serial,
      ).to.deep.equal([]);
      const audit = await admin.request(`/api/v1/audit?type=host.enrolled&serial=${h.serial}`, { token: adminToken });
      const entries = (audit.json as { entries: Array<{ data: { enrollment_checks: string[] } }> }).entries;
      expect(must(entries[0], 'the enrollment').data.enrollment_checks).to.have.members(checks.map((c) => c.check));
    }
  });

  it("stops the simulated laptops with Ctrl-C; host --json is then the API's host shape", async () => {
    const sim = must(running.pop(), 'the simulator');
    await sim.stop('SIGINT');
    expect(sim.out()).to.match(/simulated 20 hosts .* (\d+) distributed queries answered/);
    const answered = Number(/(\d+) distributed queries answered/.exec(sim.out())?.[1]);
    expect(answered, 'at least the enrollment-time checks of every host').to.be.at.least(20 * 5);
    await new Promise((r) => setTimeout(r, 1500)); // last-seen times reach the store every second
    const cli = await run(`npx trustgate host ${serial} --json`);
    const api = (await admin.request(`/api/v1/hosts/${serial}`, { token: adminToken })).json;
    expect(JSON.parse(cli.out)).to.deep.equal(api);
  });

  it('runs every command of the README’s quick start and CLI sections as printed', async () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    const commands = [...readmeCommands(readme, '## Quick start (two commands)'), ...readmeCommands(readme, '## CLI')];
    expect(commands.length).to.be.greaterThan(20);
    const fill = (cmd: string) =>
      cmd
        .replaceAll('localhost:8443', `localhost:${port}`)
        .replaceAll('TOKEN', gatewayToken)
        .replaceAll('SERIAL', serial)
        .replaceAll('FILE', FLEET_FILE);
    const ran: string[] = [];
    for (const cmd of commands.map(fill)) {
      if (cmd === 'npm install && npm start') continue; // the first test's server
      if (cmd === 'npm test') continue; // the suite itself: exempt
      if (cmd === 'npm run demo' || (cmd.includes('trustgate simulate') && !cmd.includes('--duration'))) {
        const r = background(cmd, dir, cleanEnv({ TRUSTGATE_PORT: String(port) }));
        running.push(r);
        await r.waitFor(cmd === 'npm run demo' ? /Ctrl-C stops the fleet/ : /enrolled \d+\/\d+/, 180_000);
        await r.stop('SIGINT');
        running.pop();
        ran.push(cmd);
        continue;
      }
      const r = await run(cmd);
      if (cmd.startsWith('curl ')) expect((JSON.parse(r.out) as { serial: string }).serial).to.equal(serial);
      if (cmd === 'npx trustgate osquery-flags') {
        const template = fs.readFileSync(path.join(dir, 'osquery-examples/osquery.flags'), 'utf8');
        expect(r.out).to.equal(
          template
            .replace('trustgate.example.com:8443', `localhost:${port}`)
            .replace('/etc/osquery/trustgate-ca.pem', path.join(dir, 'certs', 'ca.crt'))
            .replace('/etc/osquery/enroll_secret', path.join(dir, 'data', 'enroll_secret')),
        );
      }
      ran.push(cmd);
    }
    expect(ran.length).to.equal(commands.length - 2);
    expect(fs.existsSync(path.join(dir, 'fleet-pack.json'))).to.equal(true);
  });

  it('logs the shutdown on SIGTERM, with what it flushed', async () => {
    running.splice(running.indexOf(server), 1);
    await server.stop('SIGTERM');
    const events = server
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; reason?: string; flushed?: Record<string, number> });
    expect(events.find((e) => e.event === 'server.stopping')).to.include({ reason: 'SIGTERM' });
    expect(events.find((e) => e.event === 'server.stopped')?.flushed).to.have.keys([
      'lastSeen',
      'checkStates',
      'auditEvents',
    ]);
  });
});
