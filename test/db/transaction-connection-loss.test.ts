import { Client, type Pool } from 'pg';
import { loadConfig } from '../../common/config';
import { createPool, dbTimeouts, withTransaction } from '../../common/pg';
import { cleanUp } from '../harness/clean-up';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '../harness/database';

/**
 * A connection that dies while withTransaction holds it (Postgres restarted, the backend
 * terminated) fails that transaction and nothing else: the process goes on (node-postgres emits
 * the loss as an `error` event, which unheard would be an uncaught exception), and the pool
 * hands out a working connection next, not the dead one. Real Postgres; the backend is ended
 * with pg_terminate_backend as a restart ends it.
 */
let database: TestDatabase;
let pool: Pool;
let admin: Client;
const idleErrors: Error[] = [];

beforeAll(async () => {
  database = await createTestDatabase('tx_connection_loss');
  pool = createPool(database.url, dbTimeouts(loadConfig({})), 1, (err) => idleErrors.push(err));
  admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
});
afterAll(() => cleanUp(
  () => admin?.end(),
  () => pool?.end(),
  () => database?.drop(),
));

async function terminate(pid: number): Promise<void> {
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  // pg_terminate_backend returns once the signal is sent; wait until the backend is gone.
  for (let i = 0; i < 100; i += 1) {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (rowCount === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} did not end`);
}

it('fails the transaction whose connection was terminated between statements, and the next one gets a new connection', async () => {
  let lostPid = 0;
  const lost = withTransaction(pool, async (tx) => {
    lostPid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await terminate(lostPid);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the loss reaches the client while it is checked out and idle
    await tx.query('SELECT 1');
  });
  await expect(lost).rejects.toThrow(/terminat|not queryable|Connection/i);

  const next = await withTransaction(pool, async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  expect(next).not.toBe(lostPid);
  expect(pool.totalCount).toBe(1);
});

it('fails the transaction whose connection was terminated during a statement', async () => {
  const lost = withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const sleeping = tx.query('SELECT pg_sleep(5)');
    sleeping.catch(() => undefined); // awaited below; rejected before that
    await new Promise((resolve) => setTimeout(resolve, 200));
    await terminate(rows[0]!.pid);
    await sleeping;
  });
  await expect(lost).rejects.toThrow(/terminat|Connection/i);
  expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
});
