import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { eventSchemaVersions, parseEvent, type DomainEvent, type EventType } from '../../common/events';
import { migrate } from '../../prisma/migrate';
import { ANALYTICS_LOCK_ID, applyAnalyticsEvent, applyAnalyticsEventInTx } from '../../workers/analytics-consumer';
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
