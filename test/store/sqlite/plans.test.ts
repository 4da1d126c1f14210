/**
 * SQLite only: the query plans of statements on the enrollment path, which runs once per device and
 * thousands of times a second when a fleet enrolls at once. Without table statistics the planner picked
 * `hosts_enroll_state` for the serial's conflict check, walking every active host per enrollment.
 */
import { expect } from 'chai';
import { OPEN_HOSTS_SQL } from '../../../server/store/distributed.js';
import { ACTIVE_OTHERS_SQL } from '../../../server/store/host-enroll.js';
import { useTempSqlite } from '../../support/sqlite.js';

describe('SQLite query plans of the enrollment path', () => {
  const db = useTempSqlite('tg-plans');

  const plan = (sql: string): string[] =>
    db.opened.sqlite
      .prepare<[string, string], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all('SERIAL-1', 'uuid-1')
      .map((r) => r.detail);

  it('finds the serial’s other active hosts by the serial’s index, not by the state every host shares', () => {
    const steps = plan(ACTIVE_OTHERS_SQL);
    expect(
      steps.some((d) => /^SEARCH h USING INDEX hosts_serial(_uuid)? \(serial=\?/.test(d)),
      steps.join('\n'),
    ).to.equal(true);
    expect(steps.join('\n')).not.to.contain('hosts_enroll_state');
  });
});

describe('SQLite query plans of the work queue', () => {
  const db = useTempSqlite('tg-plans-work');

  it('lists the hosts with open queries from the partial index of open queries, not every answered one', () => {
    const steps = db.opened.sqlite
      .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${OPEN_HOSTS_SQL}`)
      .all()
      .map((r) => r.detail);
    expect(steps.join('\n')).to.match(/USING (COVERING )?INDEX distributed_open\b/);
    expect(steps.join('\n')).not.to.contain('distributed_pending');
  });
});
