import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Pool } from 'pg';
import { createDb, type Db } from '../../common/db';
import { eventSchemaVersions, type EventEnvelope } from '../../common/events';
import { outboxEventCreateInput, outboxInsert, type NewOutboxEvent } from '../../common/outbox';
import { migrate } from '../../prisma/migrate';
import { relayBatch } from '../../workers/outbox-relay';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { samplePayload } from '../harness/pipeline';
import { cleanUp } from '../harness/clean-up';

/** The outbox mapping on real Postgres: what the writers store is what the relay publishes. */
let database: TestDatabase;
let pool: Pool;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase('outbox');
  await migrate(database.url);
  pool = new Pool({ connectionString: database.url, max: 2 });
  db = createDb(database.url);
});

afterAll(() => cleanUp(
  () => db?.$disconnect(),
  () => pool?.end(),
  () => database?.drop(),
));

it('publishes rows written by the order activities (Prisma) and by the benchmark (SQL) as the envelopes written', async () => {
  const orderId = randomUUID();
  const captured: NewOutboxEvent = { id: randomUUID(), orderId, type: 'PaymentCaptured', payload: samplePayload('PaymentCaptured', orderId), correlationId: 'req-1', causationId: randomUUID() };
  const at = new Date();
  await db.outboxEvent.create({ data: outboxEventCreateInput(captured, at) });
  const fromActivities: EventEnvelope = { ...captured, schemaVersion: eventSchemaVersions.PaymentCaptured, occurredAt: at.toISOString() };
  const other = randomUUID();
  const fromBench: EventEnvelope = {
    id: randomUUID(), type: 'OrderPlaced', schemaVersion: eventSchemaVersions.OrderPlaced, occurredAt: new Date().toISOString(),
    orderId: other, correlationId: 'req-2', causationId: null, payload: samplePayload('OrderPlaced', other),
  };
  await pool.query(outboxInsert([fromBench]));

  const published: { subject: string; data: string; msgID?: string }[] = [];
  const js = { publish: async (subject: string, data: string, opts?: { msgID?: string }) => { published.push({ subject, data, msgID: opts?.msgID }); } };
  expect(await relayBatch(pool, js as unknown as JetStreamClient, 'orders.events', 10)).toMatchObject({ published: 2, deferred: 0 });
  expect(published.map((p) => [p.subject, p.msgID])).toEqual([['orders.events.PaymentCaptured', captured.id], ['orders.events.OrderPlaced', fromBench.id]]);
  expect(published.map((p) => JSON.parse(p.data) as unknown)).toEqual([fromActivities, fromBench]);
});
