/**
 * Asks a host for a file carve as an admin does (a live query on the `carves` table, through the admin
 * API) and lets the agent take it, as osqueryd does before it starts the carve (test helper).
 */
import type { TestServer } from '../support/server.js';
import type { EnrolledAgent } from './agent.js';
import { fixture } from './fixtures.js';

export interface CarveAsked {
  /** The distributed query id the agent received. */
  queryId: string;
  /** Answers the query as osquery does once the carve is scheduled: a `carves` row listing its GUID. */
  answer(guid: string): Promise<void>;
}

export async function askForCarve(ts: TestServer, agent: EnrolledAgent, path = '/etc/hosts'): Promise<CarveAsked> {
  const sql = `SELECT * FROM carves WHERE carve = 1 AND path = '${path}'`;
  const asked = await ts.client.request('/api/v1/queries', {
    token: ts.adminToken,
    body: { sql, serials: [agent.serial] },
  });
  if (asked.status !== 201) throw new Error(`live query refused: ${asked.status} ${asked.text}`);
  const read = await agent.post('/distributed/read', {});
  const queries = (read.json as { queries?: Record<string, string> }).queries ?? {};
  const queryId = Object.keys(queries).find((id) => queries[id] === sql);
  if (!queryId) throw new Error(`the carve query was not handed out: ${read.text}`);
  return {
    queryId,
    async answer(guid) {
      // the real write of a carve query (fixture from Zentral's tests), re-keyed for this query and carve
      const row = fixture<{ queries: Record<string, Array<Record<string, string>>> }>(
        'distributed-write-carve-scheduled-row.json',
      ).queries['42']?.[0];
      const r = await agent.post('/distributed/write', {
        queries: { [queryId]: [{ ...row, path, carve_guid: guid }] },
        statuses: { [queryId]: 0 },
      });
      if (r.status !== 200) throw new Error(`distributed write refused: ${r.status} ${r.text}`);
    },
  };
}
