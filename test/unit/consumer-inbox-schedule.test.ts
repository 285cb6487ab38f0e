import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '../../common/pg';
import pino from 'pino';
import { startInboxPruning } from '../../workers/consumer-inbox';

const quiet = pino({ level: 'silent' });

/** When inbox pruning runs (workers/consumer-inbox.ts), over an in-memory fake database (pure logic; the SQL has its own test on Postgres). */
function inMemoryFakeDb(statementMs: number) {
  const state = { statements: 0, inFlight: 0, mostInFlight: 0, finished: 0 };
  const db = {
    async query() {
      state.statements += 1;
      state.inFlight += 1;
      state.mostInFlight = Math.max(state.mostInFlight, state.inFlight);
      await sleep(statementMs);
      state.inFlight -= 1;
      state.finished += 1;
      return { rowCount: 0 };
    },
  } as unknown as Queryable;
  return { db, state };
}

describe('inbox pruning schedule (pure logic, in-memory fake database)', () => {
  it('waits before the first run, never overlaps runs, and a stop waits for the run under way and ends the schedule', async () => {
    const { db, state } = inMemoryFakeDb(60);
    const pruning = startInboxPruning(db, 'email', 1_000, quiet, { firstAfterMs: 40, everyMs: 5, pauseMs: 0 });
    await sleep(20);
    expect(state.statements).toBe(0);
    await sleep(300);
    expect(state.statements).toBeGreaterThanOrEqual(2);
    expect(state.mostInFlight).toBe(1); // each run waits 5 ms after the last one ended, though a statement takes 60
    while (state.inFlight === 0) await sleep(1);
    await pruning.stop();
    expect(state.inFlight).toBe(0);
    const afterStop = state.statements;
    await sleep(100);
    expect(state.statements).toBe(afterStop);
  });

  it('stops before its first run without querying at all', async () => {
    const { db, state } = inMemoryFakeDb(1);
    const pruning = startInboxPruning(db, 'analytics', 1_000, quiet, { firstAfterMs: 30, everyMs: 5, pauseMs: 0 });
    await pruning.stop();
    await sleep(60);
    expect(state.statements).toBe(0);
  });
});
