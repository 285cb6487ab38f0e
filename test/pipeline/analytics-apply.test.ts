import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { eventSchemaVersions, parseEvent, type DomainEvent, type EventType } from '../../common/events';
import { migrate } from '../../prisma/migrate';
import { ANALYTICS_LOCK_ID, applyAnalyticsEvent, applyAnalyticsEventInTx } from '../../workers/analytics-consumer';
import { limitTransaction } from '../../workers/analytics-rebuild';
import { cleanUp } from '../harness/clean-up';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { samplePayload, sleep } from '../harness/pipeline';

/**
 * The live analytics apply against a rebuild on real Postgres (READ COMMITTED): the apply takes
 * the analytics lock in its inbox insert, so its first statement may run on a snapshot older
 * than the rebuild it waited for. What the rebuild committed must still count.
 */
let database: TestDatabase;
let pool: Pool;

beforeEach(async () => {
  database = await createTestDatabase('analytics_apply');
  await migrate(database.url);
  pool = new Pool({ connectionString: database.url, max: 6 });
});

afterEach(() => cleanUp(() => pool.end(), () => database.drop()));

function event(type: EventType, orderId: string): DomainEvent {
  const parsed = parseEvent(JSON.stringify({
    id: randomUUID(), type, schemaVersion: eventSchemaVersions[type], occurredAt: new Date().toISOString(),
    orderId, correlationId: 'corr-test', causationId: null, payload: samplePayload(type, orderId),
  }));
  if (parsed.kind !== 'known') throw new Error(`test event ${type} did not parse`);
  return parsed.event;
}

const settledWithin = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);

it('a live apply that waited for a rebuild sees what the rebuild committed: its inbox rows and the orders it wrote anew', async () => {
  const orderId = randomUUID();
  const [placed, reserved, authorized] = [event('OrderPlaced', orderId), event('StockReserved', orderId), event('PaymentAuthorized', orderId)];
  expect(await applyAnalyticsEvent(pool, placed)).toBe('applied');

  const rebuild = await pool.connect();
  try {
    // As rebuildAnalytics does: the lock, the model and the inbox emptied, the stream applied again.
    await rebuild.query('BEGIN');
    await rebuild.query('SELECT pg_advisory_xact_lock($1::bigint)', [ANALYTICS_LOCK_ID]);
    await rebuild.query('DELETE FROM analytics_orders');
    await rebuild.query(`DELETE FROM processed_events WHERE consumer = 'analytics'`);
    expect(await applyAnalyticsEventInTx(rebuild, placed, 'held')).toBe('applied');
    expect(await applyAnalyticsEventInTx(rebuild, reserved, 'held')).toBe('applied');

    // Live deliveries meanwhile: one the rebuild applied too, one after the rebuild's end of stream.
    const liveReserved = applyAnalyticsEvent(pool, reserved);
    const liveAuthorized = applyAnalyticsEvent(pool, authorized);
    expect(await settledWithin(Promise.all([liveReserved, liveAuthorized]), 500)).toBe(false);
    await rebuild.query('COMMIT');

    expect(await liveReserved).toBe('already-processed');
    expect(await liveAuthorized).toBe('applied');
  } finally {
    await rebuild.query('ROLLBACK').catch(() => undefined);
    rebuild.release();
  }
  const { rows } = await pool.query('SELECT status FROM analytics_orders WHERE order_id = $1', [orderId]);
  expect(rows).toEqual([{ status: 'PAYMENT_AUTHORIZED' }]);
  const inbox = await pool.query(`SELECT count(*)::int AS n FROM processed_events WHERE consumer = 'analytics'`);
  expect(inbox.rows[0].n).toBe(3);
});

describe('the rebuild\'s transaction limits (the live consumer waits for its lock)', () => {
  async function limited(limits: { totalMs: number; idleMs: number }, then: (tx: import('pg').PoolClient) => Promise<unknown>): Promise<unknown> {
    const tx = await pool.connect();
    tx.on('error', () => undefined); // the session Postgres ends
    try {
      await tx.query('BEGIN');
      await limitTransaction(tx, limits);
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [ANALYTICS_LOCK_ID]);
      return await then(tx).then(() => 'went on', (err: Error) => err.message);
    } finally {
      tx.release(true);
    }
  }

  it('ends a transaction that runs past the total, and its lock with it', async () => {
    const { rows: [row] } = await pool.query<{ version: number }>(`SELECT current_setting('server_version_num')::int AS version`);
    const version = row!.version;
    if (version < 170000) throw new Error(`Postgres ${version} has no transaction_timeout; the test harness runs 17 or later`);
    expect(await limited({ totalMs: 300, idleMs: 60_000 }, (tx) => tx.query('SELECT pg_sleep(1)'))).toMatch(/transaction timeout|terminat/i);
    expect(await applyAnalyticsEvent(pool, event('OrderPlaced', randomUUID()))).toBe('applied'); // the lock is free again
  });

  it('ends a transaction left idle past the idle limit (the stream stopped answering), and its lock with it', async () => {
    expect(await limited({ totalMs: 60_000, idleMs: 200 }, async (tx) => {
      await sleep(600);
      await tx.query('SELECT 1');
    })).toMatch(/idle-in-transaction|terminat|connection error/i);
    expect(await applyAnalyticsEvent(pool, event('OrderPlaced', randomUUID()))).toBe('applied');
  });
});
