/**
 * Issue #12's two attacks, in every enrollment mode, through the real path: the real server over HTTPS,
 * agents that speak osquery's protocol (with a client certificate where the mode asks for one), the audit
 * log and the webhook as the security team sees them, and the gateway's verdict.
 * Attack 1: a fake agent enrolls the victim's serial with another hardware UUID (lock-out).
 * Attack 2: a fake agent enrolls the victim's serial and hardware UUID (record takeover).
 */
import { expect } from 'chai';
import { must } from '../support/must.js';
import {
  admin,
  agentClient,
  auditOf,
  compliantDevice,
  configOf,
  enroll,
  hookMessages,
  issueCert,
  reportPosture,
  startModeServer,
  verdict,
  type ModeServer,
} from './support.js';

describe('device identity: attacks on enrollment (real server, HTTPS)', function () {
  this.timeout(60_000);

  describe('secret mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({});
    });
    after(async () => ms.stop());

    it('secret mode, attack 1: the victim stays allowed; the impostor is pending, audited, webhooked', async () => {
      const victim = await compliantDevice(ms, 'darwin', 'VICTIM01');
      expect((await verdict(ms.ts, 'VICTIM01')).decision).to.equal('allow');
      const fake = await enroll(ms.ts, ms.ts.client, { serial: 'VICTIM01', uuid: 'uuid-impostor' });
      const impostor = must(fake.agent, `the impostor's node key (${fake.reply.text})`);
      // the impostor is held: a config without packs, its results acknowledged but never evaluated
      expect((await configOf(impostor)).packs).to.deep.equal({});
      expect((await reportPosture(impostor, ms.clock.now() / 1000, ['macos_filevault'])).json).to.deep.equal({});
      expect((await impostor.post('/distributed/read', {})).json).to.deep.include({ queries: {} });
      expect((await verdict(ms.ts, 'VICTIM01')).decision, 'the victim keeps its access').to.equal('allow');
      expect((await victim.agent.post('/config', {})).status, "the victim's key still works").to.equal(200);
      const [conflict] = await auditOf(ms.ts, 'device.enroll_conflict', 'VICTIM01');
      expect(conflict?.data).to.deep.include({ reason: 'serial_conflict', hardware_uuid: 'uuid-impostor' });
      expect(conflict?.data.established).to.deep.equal([
        { host_id: 1, hardware_uuid: 'uuid-VICTIM01', hostname: 'victim01.example.test' },
      ]);
      expect(await hookMessages(ms.hook, 'VICTIM01')).to.have.length.greaterThan(0);
      const pending = (await admin(ms.ts, '/pending-devices')).json as { hosts: Array<{ hardware_uuid: string }> };
      expect(pending.hosts.map((h) => h.hardware_uuid)).to.include('uuid-impostor');
    });

    it('secret mode, attack 2: taking over an active device’s record is audited and webhooked', async () => {
      await compliantDevice(ms, 'darwin', 'VICTIM02');
      const taken = await enroll(ms.ts, ms.ts.client, { serial: 'VICTIM02', uuid: 'uuid-VICTIM02' });
      expect(taken.agent, 'secret mode cannot tell the two apart (README: threat model)').to.not.equal(undefined);
      const [re] = await auditOf(ms.ts, 'device.reenrolled', 'VICTIM02');
      expect(re?.data).to.include({ hardware_uuid: 'uuid-VICTIM02' });
      expect(await hookMessages(ms.hook, 'VICTIM02 enrolled again while active')).to.have.length(1);
    });

    it('secret mode: whoever enrolls a serial first is established (the real device then waits)', async () => {
      const first = await enroll(ms.ts, ms.ts.client, { serial: 'CLAIMED03', uuid: 'uuid-squatter' });
      expect(first.agent).to.not.equal(undefined);
      const real = must(
        (await enroll(ms.ts, ms.ts.client, { serial: 'CLAIMED03', uuid: 'uuid-real' })).agent,
        'a node key',
      );
      expect((await configOf(real)).packs).to.deep.equal({});
      expect((await auditOf(ms.ts, 'device.enroll_conflict', 'CLAIMED03'))[0]?.data).to.include({
        hardware_uuid: 'uuid-real',
      });
    });
  });

  describe('inventory mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'inventory' });
      const csv = [
        'Serial Number,Hardware UUID,Owner Email,Asset Tag',
        'VICTIM11,uuid-VICTIM11,alice@example.com,A-11',
        'NOTYET12,uuid-real-12,bob@example.com,A-12',
      ].join('\n');
      const r = await admin(ms.ts, '/devices/import', { text: csv, source: 'jamf.csv' });
      expect(r.status, r.text).to.equal(200);
    });
    after(async () => ms.stop());

    it('inventory mode, attack 1: the victim stays allowed; the impostor is pending and audited', async () => {
      await compliantDevice(ms, 'darwin', 'VICTIM11');
      const impostor = must(
        (await enroll(ms.ts, ms.ts.client, { serial: 'VICTIM11', uuid: 'uuid-fake' })).agent,
        'a node key',
      );
      expect((await configOf(impostor)).packs).to.deep.equal({});
      expect((await verdict(ms.ts, 'VICTIM11')).decision).to.equal('allow');
      const [e] = await auditOf(ms.ts, 'device.enroll_conflict', 'VICTIM11');
      expect(e?.data).to.deep.include({ reason: 'inventory_mismatch', inventory_hardware_uuid: 'uuid-victim11' });
      expect(await hookMessages(ms.hook, 'VICTIM11')).to.have.length.greaterThan(0);
    });

    it('inventory mode, attack 1 on a serial not yet enrolled: the impostor waits, the device enrolls', async () => {
      const impostor = must(
        (await enroll(ms.ts, ms.ts.client, { serial: 'NOTYET12', uuid: 'uuid-fake' })).agent,
        'a node key',
      );
      expect((await configOf(impostor)).packs).to.deep.equal({});
      expect((await verdict(ms.ts, 'NOTYET12')).reasons.map((r) => r.check)).to.deep.equal(['pending_enrollment']);
      const real = must(
        (await enroll(ms.ts, ms.ts.client, { serial: 'NOTYET12', uuid: 'uuid-real-12' })).agent,
        'a node key',
      );
      expect(Object.keys((await configOf(real)).packs ?? {})).to.have.length.greaterThan(0);
      expect((await reportPosture(real, ms.clock.now() / 1000)).json).to.deep.equal({});
      expect((await verdict(ms.ts, 'NOTYET12')).decision).to.equal('allow');
    });

    it('inventory mode: a serial the inventory does not list is refused with the reason', async () => {
      const r = await enroll(ms.ts, ms.ts.client, { serial: 'STRANGER13', uuid: 'uuid-13' });
      expect(r.agent).to.equal(undefined);
      expect(r.reply.status).to.equal(403);
      expect(r.reply.json).to.deep.equal({
        error: 'enrollment refused: serial "STRANGER13" is not in the device inventory',
      });
    });
  });

  describe('certificate mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'certificate' });
    });
    after(async () => ms.stop());

    it('certificate mode, attacks 1 and 2: without the victim’s certificate no hardware UUID enrolls', async () => {
      const victimCert = await issueCert(ms.ts, 'VICTIM21');
      const victimClient = agentClient(ms.ts, victimCert);
      const victim = must(
        (await enroll(ms.ts, victimClient, { serial: 'VICTIM21', uuid: 'uuid-VICTIM21' })).agent,
        'a node key',
      );
      expect((await reportPosture(victim, ms.clock.now() / 1000)).json).to.deep.equal({});
      expect((await verdict(ms.ts, 'VICTIM21')).decision).to.equal('allow');

      const otherCert = await issueCert(ms.ts, 'OTHER22');
      const other = agentClient(ms.ts, otherCert);
      for (const uuid of ['uuid-fake', 'uuid-VICTIM21']) {
        const none = await enroll(ms.ts, ms.ts.client, { serial: 'VICTIM21', uuid });
        expect(none.reply.status).to.equal(403);
        expect((none.reply.json as { error: string }).error).to.match(/client certificate from the device CA/);
        const wrong = await enroll(ms.ts, other, { serial: 'VICTIM21', uuid });
        expect((wrong.reply.json as { error: string }).error).to.match(/names device "OTHER22", not .*"VICTIM21"/);
      }
      expect((await victim.post('/config', {})).status, "the victim's key still works").to.equal(200);
      expect((await verdict(ms.ts, 'VICTIM21')).decision).to.equal('allow');
      // the team hears that someone without the certificate tried (once per hardware UUID, not per retry)
      const tried = await auditOf(ms.ts, 'device.enroll_conflict', 'VICTIM21', 2);
      expect(tried.map((e) => [e.data.refused, e.data.hardware_uuid])).to.have.deep.members([
        [true, 'uuid-fake'],
        [true, 'uuid-VICTIM21'],
      ]);
      expect(await hookMessages(ms.hook, 'Enrollment of VICTIM21 refused')).to.have.length(2);
      other.close();
      victimClient.close();
    });

    it('certificate mode, attack 1 on a serial not enrolled yet: refused without its certificate', async () => {
      const r = await enroll(ms.ts, ms.ts.client, { serial: 'NOTYET23', uuid: 'uuid-fake' });
      expect(r.reply.status).to.equal(403);
      expect((await verdict(ms.ts, 'NOTYET23')).reasons.map((x) => x.check)).to.deep.equal(['unknown_device']);
    });

    it('certificate mode: the victim’s node key with another certificate, or none, is node_invalid', async () => {
      const cert = await issueCert(ms.ts, 'VICTIM24');
      const c = agentClient(ms.ts, cert);
      const victim = must((await enroll(ms.ts, c, { serial: 'VICTIM24', uuid: 'uuid-24' })).agent, 'a node key');
      const other = agentClient(ms.ts, await issueCert(ms.ts, 'OTHER25'));
      for (const client of [ms.ts.client, other]) {
        const r = await client.request('/api/v1/osquery/config', { body: { node_key: victim.nodeKey } });
        expect(r.status).to.equal(401);
        expect(r.json).to.deep.include({ node_invalid: true });
      }
      expect((await victim.post('/config', {})).status).to.equal(200);
      c.close();
      other.close();
    });

    it('certificate mode: people, gateway and admin APIs keep working without a client certificate', async () => {
      expect((await ms.ts.client.request('/healthz')).status).to.equal(200);
      expect((await admin(ms.ts, '/hosts')).status).to.equal(200);
      expect((await ms.ts.client.request('/device-ca.crt')).text).to.match(/BEGIN CERTIFICATE/);
    });
  });

  describe('inventory+certificate mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'inventory+certificate' });
      await admin(ms.ts, '/devices/import', { text: 'serial,uuid\nLISTED31,uuid-31\n', format: 'csv' });
    });
    after(async () => ms.stop());

    it('inventory+certificate mode: both must hold', async () => {
      const unlisted = agentClient(ms.ts, await issueCert(ms.ts, 'UNLISTED32'));
      const r = await enroll(ms.ts, unlisted, { serial: 'UNLISTED32', uuid: 'uuid-32' });
      expect((r.reply.json as { error: string }).error).to.match(/not in the device inventory/);
      const noCert = await enroll(ms.ts, ms.ts.client, { serial: 'LISTED31', uuid: 'uuid-31' });
      expect(noCert.reply.status).to.equal(403);
      const listed = agentClient(ms.ts, await issueCert(ms.ts, 'LISTED31'));
      const ok = must((await enroll(ms.ts, listed, { serial: 'LISTED31', uuid: 'uuid-31' })).agent, 'a node key');
      expect(Object.keys((await configOf(ok)).packs ?? {})).to.have.length.greaterThan(0);
      unlisted.close();
      listed.close();
    });
  });
});
