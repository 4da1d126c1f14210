/**
 * Devices held pending, through the real server over HTTPS: a pending device keeps talking (no packs,
 * nothing stored, denied `pending_enrollment`), an admin approves it and it has posture at its next
 * check-in (its checks go out as a recheck), a rejected device is refused from then on, approving the
 * newcomer of a serial conflict replaces the old record, the pending cap, and an enroll secret revoked
 * with its hosts.
 */
import { expect } from 'chai';
import { CHECK_ROWS } from '../gateway/baseline.js';
import { tryEnroll, type EnrolledAgent } from '../osquery/agent.js';
import { must } from '../support/must.js';
import {
  admin,
  auditOf,
  compliantDevice,
  configOf,
  enroll,
  hookMessages,
  startModeServer,
  verdict,
  type ModeServer,
} from './support.js';

/** Answers every query of a distributed/read with the check's passing rows (as osqueryd runs them). */
async function answerRechecks(agent: EnrolledAgent): Promise<{ count: number; accelerate: unknown }> {
  const read = (await agent.post('/distributed/read', {})).json as {
    queries: Record<string, string>;
    accelerate?: unknown;
  };
  const queries: Record<string, unknown> = {};
  const statuses: Record<string, number> = {};
  for (const id of Object.keys(read.queries)) {
    const check = /^tg_recheck_(.+)_[0-9a-f]{12}$/.exec(id)?.[1] ?? '';
    queries[id] = CHECK_ROWS[check]?.pass ?? [];
    statuses[id] = 0;
  }
  const w = await agent.post('/distributed/write', { queries, statuses });
  expect(w.json).to.deep.equal({});
  return { count: Object.keys(read.queries).length, accelerate: read.accelerate };
}

const pendingIdOf = async (ms: ModeServer, serial: string): Promise<number> => {
  const r = (await admin(ms.ts, '/pending-devices')).json as { hosts: Array<{ id: number; serial: string }> };
  return must(r.hosts.find((h) => h.serial === serial)?.id, `a pending host of ${serial}`);
};

describe('pending devices (real server, HTTPS)', function () {
  this.timeout(60_000);

  describe('inventory mode, unknown serials held pending', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_ENROLL_MODE: 'inventory', TRUSTGATE_ENROLL_UNKNOWN: 'pending' });
    });
    after(async () => ms.stop());

    it('inventory mode: a pending device is approved and has posture at its next check-in', async () => {
      const agent = must((await enroll(ms.ts, ms.ts.client, { serial: 'NEW51', uuid: 'uuid-51' })).agent, 'a key');
      expect((await configOf(agent)).packs).to.deep.equal({});
      expect((await agent.post('/distributed/read', {})).json).to.deep.include({ queries: {} });
      expect((await verdict(ms.ts, 'NEW51')).reasons.map((r) => r.check)).to.deep.equal(['pending_enrollment']);
      const pending = (await admin(ms.ts, '/pending-devices')).json as { hosts: Array<Record<string, unknown>> };
      expect(pending.hosts[0]).to.include({
        serial: 'NEW51',
        pending_reason: 'unknown_serial',
        enroll_state: 'pending',
      });

      const id = await pendingIdOf(ms, 'NEW51');
      const ok = await admin(ms.ts, `/pending-devices/${id}/approve`, {});
      expect(ok.status, ok.text).to.equal(200);
      // the next check-in: the device's checks as a recheck, answered → posture, without a config refresh
      const answered = await answerRechecks(agent);
      expect(answered.count).to.be.greaterThan(3);
      expect(answered.accelerate).to.be.a('number');
      expect((await verdict(ms.ts, 'NEW51')).decision).to.equal('allow');
      expect(Object.keys((await configOf(agent)).packs ?? {})).to.have.length.greaterThan(0);
      const inventory = (await admin(ms.ts, '/devices/NEW51')).json as { device: Record<string, unknown> };
      expect(inventory.device, 'approved into the inventory').to.include({
        serial: 'NEW51',
        hardware_uuid: 'uuid-51',
        source: 'approved',
      });
      const [a] = await auditOf(ms.ts, 'device.approved', 'NEW51');
      expect(a?.data).to.include({ reason: 'unknown_serial', hardware_uuid: 'uuid-51' });
      expect(await hookMessages(ms.hook, 'NEW51 approved')).to.have.length(1);
    });

    it('inventory mode: a rejected device loses its key and is refused until the rejection is cleared', async () => {
      const agent = must((await enroll(ms.ts, ms.ts.client, { serial: 'BAD52', uuid: 'uuid-52' })).agent, 'a key');
      const id = await pendingIdOf(ms, 'BAD52');
      expect((await admin(ms.ts, `/pending-devices/${id}/reject`, {})).status).to.equal(200);
      expect((await agent.post('/config', {})).json).to.deep.include({ node_invalid: true });
      const again = await enroll(ms.ts, ms.ts.client, { serial: 'BAD52', uuid: 'uuid-52' });
      expect(again.reply.status).to.equal(403);
      expect((again.reply.json as { error: string }).error).to.match(/rejected/);
      expect((await auditOf(ms.ts, 'device.rejected', 'BAD52'))[0]?.data).to.include({ hardware_uuid: 'uuid-52' });
      const cleared = await admin(ms.ts, '/enroll-rejections/BAD52?hardware_uuid=uuid-52', undefined, 'DELETE');
      expect(cleared.json).to.deep.equal({ cleared: 1 });
      expect((await enroll(ms.ts, ms.ts.client, { serial: 'BAD52', uuid: 'uuid-52' })).agent).to.not.equal(undefined);
    });

    it('answers bad input with a clear 4xx', async () => {
      const cases: Array<[string, unknown, string | undefined, number]> = [
        ['/pending-devices/abc/approve', {}, undefined, 400],
        ['/pending-devices/99999/approve', {}, undefined, 404],
        ['/enroll-rejections/NOBODY', undefined, 'DELETE', 404],
        ['/devices/import', { format: 'csv' }, undefined, 400],
        ['/device-certs', { serial: '' }, undefined, 400],
        ['/device-certs', { serial: 'X', days: 0 }, undefined, 400],
        ['/device-certs/revoke', { sha256: 'not-a-fingerprint-'.repeat(4) }, undefined, 400],
        ['/device-certs/revoke', { serial: 'NEVER-ISSUED' }, undefined, 404],
        ['/device-certs/revoke', {}, undefined, 400],
        ['/devices/NOT-THERE', undefined, 'DELETE', 404],
        ['/enroll-secrets/default?revoke_hosts=maybe', undefined, 'DELETE', 400],
      ];
      for (const [p, body, method, status] of cases) {
        const r = await admin(ms.ts, p, body, method);
        expect(r.status, `${method ?? 'POST'} ${p}: ${r.text}`).to.equal(status);
        expect(r.json, p).to.have.nested.property('error.message');
      }
      const active = must((await enroll(ms.ts, ms.ts.client, { serial: 'NEW51', uuid: 'uuid-51' })).agent, 'key');
      const hosts = (await admin(ms.ts, '/hosts/NEW51')).json as { host: { enroll_state: string } };
      expect(hosts.host.enroll_state).to.equal('active');
      expect(active.nodeKey).to.be.a('string');
    });
  });

  describe('secret mode', () => {
    let ms: ModeServer;
    before(async () => {
      ms = await startModeServer({ TRUSTGATE_PENDING_MAX: '2' });
    });
    after(async () => ms.stop());

    it('secret mode: approving the newcomer of a serial conflict replaces the established device', async () => {
      const old = await compliantDevice(ms, 'darwin', 'SWAP61');
      const board = must(
        (await enroll(ms.ts, ms.ts.client, { serial: 'SWAP61', uuid: 'uuid-new-board' })).agent,
        'key',
      );
      const r = await admin(ms.ts, `/pending-devices/${await pendingIdOf(ms, 'SWAP61')}/approve`, {});
      expect((r.json as { replaced: Array<{ hardware_uuid: string }> }).replaced[0]?.hardware_uuid).to.equal(
        'uuid-SWAP61',
      );
      expect((await old.agent.post('/config', {})).json).to.deep.include({ node_invalid: true });
      expect((await board.post('/config', {})).status).to.equal(200);
      expect((await auditOf(ms.ts, 'device.unenrolled', 'SWAP61'))[0]?.data).to.include({
        hardware_uuid: 'uuid-SWAP61',
      });
    });

    it('secret mode: beyond TRUSTGATE_PENDING_MAX new pending enrollments are refused (503, retry later)', async () => {
      await compliantDevice(ms, 'darwin', 'CAP62');
      await compliantDevice(ms, 'darwin', 'CAP63');
      await compliantDevice(ms, 'darwin', 'CAP64');
      // SWAP61's approval left no pending host: two fit, the third is refused
      for (const serial of ['CAP62', 'CAP63']) {
        expect((await enroll(ms.ts, ms.ts.client, { serial, uuid: 'uuid-x' })).reply.status).to.equal(200);
      }
      const third = await enroll(ms.ts, ms.ts.client, { serial: 'CAP64', uuid: 'uuid-x' });
      expect(third.reply.status).to.equal(503);
      expect((third.reply.json as { error: string }).error).to.match(/too many devices are waiting for approval/);
    });

    it('secret mode: revoking an enroll secret with revoke_hosts unenrolls the hosts enrolled with it', async () => {
      const s = await admin(ms.ts, '/enroll-secrets', { name: 'contractor' });
      const secret = (s.json as { secret: string }).secret;
      const r = await tryEnroll(ms.ts.client, secret, 'enroll-request-darwin10.14.6-osquery4.6.0.json', {
        serial: 'CONTRACT65',
        uuid: 'uuid-65',
      });
      const key = (r.json as { node_key: string }).node_key;
      const gone = await admin(ms.ts, '/enroll-secrets/contractor?revoke_hosts=1', undefined, 'DELETE');
      expect(gone.json).to.deep.equal({ name: 'contractor', hosts_unenrolled: 1 });
      const after = await ms.ts.client.request('/api/v1/osquery/config', { body: { node_key: key } });
      expect(after.json).to.deep.include({ node_invalid: true });
      const [a] = await auditOf(ms.ts, 'admin.secret.revoked');
      expect(a?.data).to.deep.equal({ name: 'contractor', hosts_unenrolled: 1 });
    });
  });
});
