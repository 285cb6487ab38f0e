import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../common/config';
import { createDb, dbTimeouts, type Db } from '../../common/db';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { cleanUp } from '../harness/clean-up';

/**
 * Every pool of ours waits for Postgres only so long: DATABASE_CONNECT_TIMEOUT for a connection,
 * DATABASE_STATEMENT_TIMEOUT for a statement. Without them a request (and an order's step)
 * hangs for as long as Postgres or the network does.
 */
let database: TestDatabase;
const opened: Db[] = [];
const open = (...args: Parameters<typeof createDb>) => { const db = createDb(...args); opened.push(db); return db; };

beforeAll(async () => { database = await createTestDatabase('pool_timeouts'); });
afterAll(() => cleanUp(
  () => Promise.all(opened.map((db) => db.$disconnect())),
  () => database?.drop(),
));

/** The promise's outcome, or 'still waiting' after `ms`. */
async function within<T>(ms: number, p: Promise<T>) {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then((v) => ({ settled: 'resolved' as const, v }), (e: Error) => ({ settled: 'rejected' as const, e })),
      new Promise<{ settled: 'still waiting' }>((r) => { timer = setTimeout(() => r({ settled: 'still waiting' }), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

it('the configured timeouts are the defaults: statements end after 15 s', async () => {
  expect(dbTimeouts(loadConfig({}))).toEqual({ connectTimeoutMs: 5_000, statementTimeoutMs: 15_000 });
  const db = open(database.url, dbTimeouts(loadConfig({})));
  expect(await db.$queryRaw`SHOW statement_timeout`).toEqual([{ statement_timeout: '15s' }]);
});

it('a statement longer than DATABASE_STATEMENT_TIMEOUT is cancelled by Postgres', async () => {
  const db = open(database.url, dbTimeouts(loadConfig({ DATABASE_STATEMENT_TIMEOUT: '300ms' })));
  const outcome = await within(10_000, db.$queryRaw`SELECT pg_sleep(3)`);
  expect(outcome).toMatchObject({ settled: 'rejected', e: expect.objectContaining({ message: expect.stringMatching(/statement timeout/) }) });
});

it('a server that accepts but never answers fails the query after DATABASE_CONNECT_TIMEOUT instead of hanging', async () => {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => { sockets.add(socket); }); // takes the connection, says nothing
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const url = `postgresql://u:p@127.0.0.1:${(silent.address() as AddressInfo).port}/nothing`;
    const db = open(url, dbTimeouts(loadConfig({ DATABASE_CONNECT_TIMEOUT: '500ms' })));
    const started = Date.now();
    const outcome = await within(10_000, db.$queryRaw`SELECT 1`);
    expect(outcome.settled).toBe('rejected');
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => silent.close(r));
  }
});
