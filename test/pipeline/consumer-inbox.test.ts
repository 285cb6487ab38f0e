import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { loadConfig } from '../../common/config';
import { createPool, dbTimeouts } from '../../common/pg';
import { migrate } from '../../prisma/migrate';
import { pruneInbox } from '../../workers/consumer-inbox';
import { cleanUp } from '../harness/clean-up';
import { createTestDatabase, type TestDatabase } from '../harness/database';

/** The consumers' inbox retention (workers/consumer-inbox.ts) on a real, migrated Postgres. */
let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('inbox_retention');
  await migrate(database.url);
  pool = createPool(database.url, dbTimeouts(loadConfig({})), 2, () => undefined);
});
afterAll(() => cleanUp(
  () => pool?.end(),
  () => database?.drop(),
));

/** Inbox rows of `consumer` handled `ageSeconds` ago. */
async function handled(consumer: string, count: number, ageSeconds: number): Promise<void> {
  await pool.query(`INSERT INTO processed_events (consumer, event_id, processed_at)
    SELECT $1, gen_random_uuid(), now() - $3::int * interval '1 second' FROM generate_series(1, $2::int)`, [consumer, count, ageSeconds]);
}
const rowsOf = async (consumer: string) => (await pool.query<{ old: string; recent: string }>(
  `SELECT count(*) FILTER (WHERE processed_at < now() - interval '1 hour') AS old, count(*) FILTER (WHERE processed_at >= now() - interval '1 hour') AS recent
   FROM processed_events WHERE consumer = $1`, [consumer])).rows[0];

describe('consumer inbox retention', () => {
  it('deletes only this consumer\'s rows older than the retention, all of them across batches', async () => {
    const [email, analytics] = [`email-${randomUUID()}`, `analytics-${randomUUID()}`];
    await handled(email, 12_003, 2 * 3_600); // more than two batches
    await handled(email, 7, 60);
    await handled(analytics, 5, 2 * 3_600);

    expect(await pruneInbox(pool, email, 3_600_000)).toBe(12_003);
    expect(await rowsOf(email)).toEqual({ old: '0', recent: '7' });
    expect(await rowsOf(analytics)).toEqual({ old: '5', recent: '0' });
    expect(await pruneInbox(pool, email, 3_600_000)).toBe(0);
  });

  it('stops between batches when asked to, leaving the rest for the next run', async () => {
    const consumer = `stopping-${randomUUID()}`;
    await handled(consumer, 6_000, 2 * 3_600);
    expect(await pruneInbox(pool, consumer, 3_600_000, () => true)).toBe(5_000);
    expect(await rowsOf(consumer)).toEqual({ old: '1000', recent: '0' });
  });
});
