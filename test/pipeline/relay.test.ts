import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { Config } from '../../common/config';
import type { EventType } from '../../common/events';
import { migrate } from '../../prisma/migrate';
import { setupStreams } from '../../common/nats';
import { deletePublishedOutboxRows, startOutboxRelay, type OutboxRelay } from '../../workers/outbox-relay';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { readStream, sleep, startOwnNats, streamMessageCount, unpublishedCount, writeOutboxEvent, type OwnNats } from '../harness/pipeline';
import { quietLogger, testConfig, waitFor } from '../harness/system';

/**
 * The outbox relay against real Postgres and NATS JetStream: every committed row reaches the
 * stream exactly once and in per-order order, whatever the commit timing, the number of relays,
 * crashes between the broker's ack and the mark, lost locks or broker outages.
 */
let database: TestDatabase;
let pool: Pool;
const relays: OutboxRelay[] = [];

beforeEach(async () => {
  database = await createTestDatabase('relay');
  await migrate(database.url);
  pool = new Pool({ connectionString: database.url, max: 24 });
});

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  await pool.end();
  await database.drop();
});

/** Starts a relay once the admin user has set up the streams (the relay may not create them). */
async function relay(config: Config, opts: Parameters<typeof startOutboxRelay>[2] = {}): Promise<OutboxRelay> {
  await setupStreams(config);
  const started = await startOutboxRelay(config, quietLogger, opts);
  relays.push(started);
  return started;
}

async function stopRelay(r: OutboxRelay): Promise<void> {
  relays.splice(relays.indexOf(r), 1);
  await r.stop();
}

const ORDER_EVENTS: EventType[] = ['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed'];

/** Writes each order's events one after another (as the workflow does), all orders at once. */
async function writeOrders(orders: number, holdMs: (order: number, step: number) => number): Promise<Map<string, string[]>> {
  const written = new Map<string, string[]>();
  await Promise.all(Array.from({ length: orders }, async (_, o) => {
    const orderId = randomUUID();
    const ids: string[] = [];
    written.set(orderId, ids);
    for (const [step, type] of ORDER_EVENTS.entries()) ids.push(await writeOutboxEvent(pool, orderId, type, { holdBeforeCommitMs: holdMs(o, step) }));
  }));
  return written;
}

function expectExactlyOnceInOrder(stream: Awaited<ReturnType<typeof readStream>>, written: Map<string, string[]>): void {
  const ids = stream.map((m) => m.event.id);
  const expected = [...written.values()].flat();
  expect(ids.length).toBe(expected.length);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(expected));
  for (const [orderId, orderIds] of written) {
    expect({ orderId, ids: stream.filter((m) => m.event.orderId === orderId).map((m) => m.event.id) }).toEqual({ orderId, ids: orderIds });
  }
}

it('publishes every row once, in per-order order, with late commits, many writers and two relays (one killed midway)', async () => {
  const config = testConfig({ DATABASE_URL: database.url, RELAY_BATCH_SIZE: '50' });
  const [a, b] = [await relay(config, { name: 'relay-a' }), await relay(config, { name: 'relay-b' })];
  await waitFor('a leader', async () => a.isLeader() || b.isLeader());
  expect(a.isLeader() && b.isLeader()).toBe(false);

  // A transaction that takes its sequence number first and commits last: a relay that remembered
  // "the last sequence I published" would skip it for ever.
  const lateOrder = randomUUID();
  const late = writeOutboxEvent(pool, lateOrder, 'OrderPlaced', { holdBeforeCommitMs: 2_500 });
  await sleep(50);
  // 40 orders written concurrently by up to 24 connections; every 7th transaction stays open for 400 ms.
  const writing = writeOrders(40, (o, step) => ((o + step) % 7 === 0 ? 400 : Math.floor(Math.random() * 30)));
  await sleep(600);
  const leader = a.isLeader() ? a : b;
  await stopRelay(leader); // the standby takes over within its 2 s retry
  const written = await writing;
  written.set(lateOrder, [await late]);

  await waitFor('every row published', async () => (await unpublishedCount(pool)) === 0, 30_000);
  await waitFor('every event in the stream', async () => (await streamMessageCount(config)) >= 201, 10_000);
  expectExactlyOnceInOrder(await readStream(config), written);
});

it('drops the re-publish after a crash between the broker ack and the mark (Nats-Msg-Id de-duplication)', async () => {
  const config = testConfig({ DATABASE_URL: database.url });
  const written = await writeOrders(10, () => 0);
  let publishedBeforeCrash = 0;
  const crashing = await relay(config, { hooks: { async beforeMark(ids) { publishedBeforeCrash += ids.length; throw new Error('simulated crash after the broker ack'); } } });
  await waitFor('the first events acknowledged by the broker', async () => publishedBeforeCrash >= 10);
  await stopRelay(crashing);
  expect(await unpublishedCount(pool)).toBe(50); // acknowledged, never marked
  expect(await streamMessageCount(config)).toBeGreaterThanOrEqual(10);

  await relay(config);
  await waitFor('every row published', async () => (await unpublishedCount(pool)) === 0, 20_000);
  expectExactlyOnceInOrder(await readStream(config), written);
});

it('wakes on NOTIFY instead of waiting for the next poll', async () => {
  const config = testConfig({ DATABASE_URL: database.url, RELAY_POLL_INTERVAL_MS: '600000' });
  await relay(config);
  await sleep(500); // the relay has found nothing and sleeps for its 10-minute poll
  const started = Date.now();
  await writeOutboxEvent(pool, randomUUID(), 'OrderPlaced');
  await waitFor('the row published', async () => (await unpublishedCount(pool)) === 0, 5_000, 5);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(await streamMessageCount(config)).toBe(1);
});

it('stands down when its lock connection is killed, takes the lock again and goes on publishing', async () => {
  const config = testConfig({ DATABASE_URL: database.url });
  const r = await relay(config);
  await waitFor('leadership', async () => r.isLeader());
  await writeOutboxEvent(pool, randomUUID(), 'OrderPlaced');
  await waitFor('first row published', async () => (await unpublishedCount(pool)) === 0);

  const { rowCount } = await pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707370 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
  expect(rowCount).toBe(1);
  const taken = async () => (await r.registry.getSingleMetric('outbox_relay_leadership_taken_total')!.get()).values[0]!.value;
  expect(await taken()).toBe(1);
  await writeOutboxEvent(pool, randomUUID(), 'OrderPlaced');
  await waitFor('the relay to take the lock again on a new connection', async () => (await taken()) === 2 && r.isLeader(), 10_000);
  await waitFor('second row published', async () => (await unpublishedCount(pool)) === 0, 10_000);
  expect(await streamMessageCount(config)).toBe(2);
});

it('backs off while NATS is down and catches up, exactly once, when it returns', async () => {
  const nats: OwnNats = await startOwnNats();
  try {
    const config = testConfig({ DATABASE_URL: database.url, NATS_URL: nats.url });
    const r = await relay(config);
    const before = await writeOrders(5, () => 0);
    await waitFor('first orders published', async () => (await unpublishedCount(pool)) === 0, 10_000);

    await nats.stop();
    const during = await writeOrders(10, () => 0);
    const failures = async () => (await r.registry.getSingleMetric('outbox_relay_batch_failures_total')!.get()).values[0]!.value;
    await waitFor('publishing to fail while NATS is down', async () => (await failures()) >= 2, 30_000, 100);
    await sleep(2_000);
    expect(await unpublishedCount(pool)).toBeGreaterThan(0);
    expect(await failures()).toBeLessThan(30); // backing off, not spinning
    const metrics = await r.registry.metrics();
    expect(metrics).toContain(`outbox_backlog_events{process="outbox-relay"} ${await unpublishedCount(pool)}`);
    expect(metrics).toMatch(/outbox_oldest_unpublished_age_seconds\{process="outbox-relay"\} [1-9]/);

    await nats.start();
    await waitFor('backlog published after the outage', async () => (await unpublishedCount(pool)) === 0, 40_000);
    expectExactlyOnceInOrder(await readStream(config), new Map([...before, ...during]));
  } finally {
    for (const r of relays.splice(0)) await r.stop();
    await nats.destroy();
  }
});

it('deletes published rows past the retention and never unpublished ones', async () => {
  const config = testConfig({ DATABASE_URL: database.url, OUTBOX_RETENTION: '1ms', OUTBOX_CLEANUP_INTERVAL: '200ms' });
  await writeOrders(3, () => 0);
  expect(await deletePublishedOutboxRows(pool, 0)).toBe(0); // nothing is published yet
  expect(await unpublishedCount(pool)).toBe(15);
  await relay(config);
  await waitFor('published rows cleaned up', async () => {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events');
    return Number(rows[0]!.n) === 0;
  }, 10_000);
  expect(await streamMessageCount(config)).toBe(15);
});
