/**
 * SQLite only: the query plans of statements on the enrollment path, which runs once per device and
 * thousands of times a second when a fleet enrolls at once. Without table statistics the planner picked
 * `hosts_enroll_state` for the serial's conflict check, walking every active host per enrollment.
 */
import { expect } from 'chai';
import { OPEN_HOSTS_SINCE_SQL, OPEN_HOSTS_SQL, PRUNE_ANSWERED_SQL } from '../../../server/store/distributed.js';
import { ACTIVE_OTHERS_SQL } from '../../../server/store/host-enroll.js';
import { ACTIVE_CERTS_SQL } from '../../../server/store/hosts.js';
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

describe('SQLite query plans of the certificate index', () => {
  const db = useTempSqlite('tg-plans-certs');

  it('reads a page of active hosts’ certificates from the covering index, in id order, without a sort', () => {
    const steps = db.opened.sqlite
      .prepare<[number, number], { detail: string }>(`EXPLAIN QUERY PLAN ${ACTIVE_CERTS_SQL}`)
      .all(0, 1000)
      .map((r) => r.detail);
    expect(steps).to.deep.equal([
      'SEARCH hosts USING COVERING INDEX hosts_enroll_state_certs (enroll_state=? AND id>?)',
    ]);
  });
});

describe('SQLite query plans of the work queue', () => {
  const db = useTempSqlite('tg-plans-work');

  const plan = (sql: string, ...args: number[]): string =>
    db.opened.sqlite
      .prepare<number[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...args)
      .map((r) => r.detail)
      .join('\n');

  it('prunes answered queries by the partial index of answered ones, never walking the table', () => {
    const steps = plan(PRUNE_ANSWERED_SQL, 0, 100);
    expect(steps).to.match(/USING (COVERING )?INDEX distributed_answered \(completed_at>\? AND completed_at<\?\)/);
    expect(steps).not.to.match(/SCAN distributed_queries\b(?! USING)/);
  });

  it('lists the hosts with open queries from the partial index of open queries, not every answered one', () => {
    const steps = plan(OPEN_HOSTS_SQL);
    expect(steps).to.match(/USING (COVERING )?INDEX distributed_open\b/);
    expect(steps).not.to.contain('distributed_pending');
  });

  it('lists those queued since a time by searching that index by time, not scanning it', () => {
    expect(plan(OPEN_HOSTS_SINCE_SQL, 0)).to.match(
      /^SEARCH distributed_queries USING (COVERING )?INDEX distributed_open \(created_at>\?\)/m,
    );
  });
});
