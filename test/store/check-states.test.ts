import { expect } from 'chai';
import type { CheckState, HostDetails } from '../../server/domain/types.js';
import { CHECK_STATUSES } from '../../server/domain/types.js';
import { createCheckStateRepo } from '../../server/store/check-states.js';
import { createHostRepo } from '../../server/store/hosts.js';
import { useTempSqlite } from '../support/sqlite.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

async function enroll(db: ReturnType<typeof useTempSqlite>['opened']['db'], serial: string): Promise<number> {
  const details: HostDetails = { system_info: { hardware_serial: serial } };
  const out = await createHostRepo(db).enroll({
    serial, hardwareUuid: `uuid-${serial}`, hostIdentifier: serial, hostname: `${serial}.local`, platform: 'darwin', osPlatform: 'darwin',
    osName: 'macOS', osVersion: '14.4', osqueryVersion: '5.12.1', hardwareVendor: 'Apple', hardwareModel: 'Mac', enrollSecretName: 'default',
    details, nodeKeyHash: `hash-${serial}`, at: T0,
  });
  return out.host.id;
}

const st = (hostId: number, checkId: string, status: CheckState['status'], over: Partial<CheckState> = {}): CheckState => ({
  hostId, checkId, status, observed: [{ version: '14.4' }], message: `${checkId} message`, observedAt: T0,
  firstFailedAt: status === 'fail' ? T0 - 1000 : null, lastPassedAt: status === 'pass' ? T0 : null, error: status === 'error' ? 'no such table' : null, resultSeq: 7, ...over,
});

describe('createCheckStateRepo columns', () => {
  const tmp = useTempSqlite('tg-check-states');

  it('returns every state of the named checks, with text only where a verdict shows it', async () => {
    const repo = createCheckStateRepo(tmp.opened.sqlite);
    const a = await enroll(tmp.opened.db, 'A');
    const b = await enroll(tmp.opened.db, 'B');
    const states = [
      st(a, 'disk', 'pass'), st(a, 'firewall', 'fail', { message: 'Firewall is off.' }), st(a, 'os', 'error'),
      st(b, 'disk', 'unknown', { observedAt: null }), st(b, 'firewall', 'pass', { firstFailedAt: T0 - 5000 }), st(b, 'retired', 'fail'),
    ];
    await repo.putMany(states);
    const ids = ['os', 'firewall', 'disk'];
    const cols = await repo.columns(ids);
    expect(cols.length).to.equal(5);
    const got = Array.from({ length: cols.length }, (_, i) => ({
      hostId: cols.hostId[i], checkId: ids[cols.check[i] ?? -1], status: CHECK_STATUSES[cols.status[i] ?? -1],
      observedAt: cols.observedAt[i], firstFailedAt: cols.firstFailedAt[i], lastPassedAt: cols.lastPassedAt[i],
      message: cols.message.get(i), error: cols.error.get(i),
    })).sort((x, y) => (x.hostId ?? 0) - (y.hostId ?? 0) || String(x.checkId).localeCompare(String(y.checkId)));
    expect(got).to.deep.equal([
      { hostId: a, checkId: 'disk', status: 'pass', observedAt: T0, firstFailedAt: NaN, lastPassedAt: T0, message: undefined, error: undefined },
      { hostId: a, checkId: 'firewall', status: 'fail', observedAt: T0, firstFailedAt: T0 - 1000, lastPassedAt: NaN, message: 'Firewall is off.', error: undefined },
      { hostId: a, checkId: 'os', status: 'error', observedAt: T0, firstFailedAt: NaN, lastPassedAt: NaN, message: undefined, error: 'no such table' },
      { hostId: b, checkId: 'disk', status: 'unknown', observedAt: NaN, firstFailedAt: NaN, lastPassedAt: NaN, message: undefined, error: undefined },
      { hostId: b, checkId: 'firewall', status: 'pass', observedAt: T0, firstFailedAt: T0 - 5000, lastPassedAt: T0, message: undefined, error: undefined },
    ]);
  });

  it('returns empty columns for no states or no check ids, and reads again after a change', async () => {
    const repo = createCheckStateRepo(tmp.opened.sqlite);
    expect((await repo.columns(['disk'])).length).to.equal(0);
    const a = await enroll(tmp.opened.db, 'A');
    await repo.putMany([st(a, 'disk', 'pass')]);
    expect((await repo.columns([])).length).to.equal(0);
    expect((await repo.columns(['disk'])).length).to.equal(1);
    await repo.putMany([st(a, 'disk', 'fail', { message: 'now failing' })]);
    const cols = await repo.columns(['disk']);
    expect([cols.length, CHECK_STATUSES[cols.status[0] ?? -1], cols.message.get(0)]).to.deep.equal([1, 'fail', 'now failing']);
  });
});
