/** Evaluation's write-behind of check states (control/evaluation.ts), with a store whose writes take turns. */
import { expect } from 'chai';
import { createEvaluation, type EvaluationDeps } from '../../server/control/evaluation.js';
import type { CheckState, Host, LatestResult } from '../../server/domain/types.js';
import { createLogger } from '../../server/shared/log.js';

const state = (hostId: number, status: CheckState['status'], message: string): CheckState => ({
  hostId,
  checkId: 'disk',
  status,
  observed: [],
  message,
  observedAt: null,
  firstFailedAt: null,
  lastPassedAt: null,
  error: null,
  resultSeq: null,
});

describe('evaluation: check states written behind', () => {
  it('runs flushes one after another, so a slow write of older states never lands after newer ones', async () => {
    const stored = new Map<string, string>();
    const writes: string[] = [];
    let next: CheckState[] = [];
    const deps = {
      engine: {
        onResults: () => ({ changed: next, transitions: [] }),
        checks: () => [],
        loadHosts: () => undefined,
      },
      hosts: { list: async () => [] },
      results: { latestSince: async () => [] },
      checkStates: {
        // a write of several turns, as the SQLite store's sliced one: one state per turn
        putMany: async (states: readonly CheckState[]) => {
          for (const s of states) {
            await new Promise((r) => setImmediate(r));
            stored.set(`${s.hostId}/${s.checkId}`, s.message);
            writes.push(s.message);
          }
        },
        columns: async () => ({ hostIds: [], checkIds: [], columns: [] }),
      },
      settings: { get: async () => undefined, set: async () => undefined },
      audit: { decisionChanged: () => undefined },
      clock: { now: () => 1_000 },
      log: createLogger('silent'),
    } as unknown as EvaluationDeps;
    const evaluation = createEvaluation(deps);
    const host = { id: 1 } as Host;
    const latest: LatestResult[] = [];

    next = [state(1, 'fail', 'old 1'), state(2, 'fail', 'old 2'), state(3, 'fail', 'old 3')];
    evaluation.onResults(host, latest);
    const first = evaluation.flush();
    await new Promise((r) => setImmediate(r)); // the first write is under way
    next = [state(3, 'pass', 'new 3')];
    evaluation.onResults(host, latest);
    const second = evaluation.flush();
    expect(await Promise.all([first, second])).to.deep.equal([3, 1]);
    expect(writes).to.deep.equal(['old 1', 'old 2', 'old 3', 'new 3']);
    expect(stored.get('3/disk')).to.equal('new 3');
  });
});
