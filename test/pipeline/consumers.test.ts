import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import nodemailer from 'nodemailer';
import { Client, Pool } from 'pg';
import pino from 'pino';
import type { Config } from '../../common/config';
import { createDb, type Db } from '../../common/db';
import { eventSchemaVersions, eventSubject, parseEvent, type EventType } from '../../common/events';
import { connectNats, setupStreams } from '../../common/nats';
import { ERASED_EMAIL } from '../../common/personal-data';
import { migrate } from '../../prisma/migrate';
import { startSmtpSink } from '../../scripts/infra/smtp-sink';
import { ANALYTICS_LOCK_ID, applyAnalyticsEvent, startAnalyticsConsumer } from '../../workers/analytics-consumer';
import { rebuildAnalytics } from '../../workers/analytics-rebuild';
import { readConsumerLag, recordConsumerLag } from '../../workers/consumer-lag';
import { listDeadLetters, replayDeadLetter } from '../../workers/dead-letters';
import { CUSTOMER_FACING, EMAIL_CONSUMER, sendEmailForEvent, startEmailConsumer } from '../../workers/email-consumer';
import { messageIdFor } from '../../workers/email-templates';
import { startEventConsumer } from '../../workers/event-consumer';
import { startOutboxRelay } from '../../workers/outbox-relay';
import type { RunningProcess } from '../../common/run-process';
import { cleanUp } from '../harness/clean-up';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '../harness/database';
import { insertSampleOrder, readStream, samplePayload, sleep, unpublishedCount, writeOutboxEvent } from '../harness/pipeline';
import { quietLogger, testConfig, waitFor } from '../harness/system';

/**
 * The consumers against real Postgres, NATS JetStream and SMTP: dead letters and their replay,
 * mixed schema versions, duplicate delivery of every event, the email crash window, and the
 * analytics rebuild from the stream.
 */
let database: TestDatabase;
let db: Db;
let pool: Pool;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let config: Config;
const running: RunningProcess[] = [];

beforeEach(async () => {
  database = await createTestDatabase('consumers');
  await migrate(database.url);
  db = createDb(database.url);
  pool = new Pool({ connectionString: database.url, max: 8 });
  smtp = await startSmtpSink({ port: 0 });
  config = testConfig({
    DATABASE_URL: database.url, SMTP_URL: smtp.url,
    CONSUMER_MAX_DELIVER: '3', CONSUMER_RETRY_BASE_DELAY: '50ms', CONSUMER_RETRY_MAX_DELAY: '200ms',
  });
  await setupStreams(config);
});

afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.stop();
  await smtp.stop();
  await pool.end();
  await db.$disconnect();
  await database.drop();
});

async function start(p: Promise<RunningProcess>): Promise<RunningProcess> {
  const started = await p;
  running.push(started);
  return started;
}

async function withJetStream<T>(fn: (js: ReturnType<typeof jetstream>, jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>): Promise<T> {
  // The test plays the relay and the operator: as the admin user, which may publish events and read everything.
  const nc = await connectNats(config, 'admin', { name: 'consumers-test' });
  try {
    const jsm = await jetstreamManager(nc);
    return await fn(jetstream(nc), jsm);
  } finally {
    await nc.drain();
  }
}

function envelope(type: string, orderId: string, payload: unknown, schemaVersion = 1, extra: Record<string, unknown> = {}) {
  return { id: randomUUID(), type, schemaVersion, occurredAt: new Date().toISOString(), orderId, correlationId: 'corr-test', causationId: null, payload, ...extra };
}

/** A customer-facing event at its current version, with the order's row (where its address is) written. */
async function customerFacing(type: 'OrderConfirmed' | 'OrderCancelled', orderId: string) {
  await insertSampleOrder(pool, orderId);
  return { ...envelope(type, orderId, samplePayload(type, orderId), eventSchemaVersions[type]), type };
}

async function publish(...events: { type: string; id: string }[]): Promise<void> {
  await withJetStream(async (js) => {
    for (const e of events) await js.publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, e.type), JSON.stringify(e), { msgID: e.id });
  });
}

async function analyticsRows() {
  const { rows } = await pool.query('SELECT order_id, status, currency, total_cents, item_count, placed_at, last_event_at, cancel_reason_code FROM analytics_orders ORDER BY order_id');
  return rows as { order_id: string; status: string; item_count: number }[];
}

async function inboxCount(consumer: string): Promise<number> {
  return db.processedEvent.count({ where: { consumer } });
}

it('sends poison to the dead-letter stream with the reason, and replays it to its consumer only after the fix', async () => {
  const analytics = await startAnalyticsConsumer(config, quietLogger);
  running.push(analytics);
  await start(startEmailConsumer(config, quietLogger));
  const orderId = randomUUID();
  // Malformed: straight to the dead letters, first delivery.
  await withJetStream((js) => js.publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderPlaced'), '{"id": "not even a uuid"', { msgID: randomUUID() }));
  // Valid but cannot be applied: StockReserved of an order whose OrderPlaced is missing fails every delivery.
  const stockReserved = envelope('StockReserved', orderId, samplePayload('StockReserved', orderId));
  await publish(stockReserved);

  const letters = await waitFor('both dead letters', async () => {
    const found = await withJetStream((_js, jsm) => listDeadLetters(jsm, config));
    return found.length === 2 ? found : undefined;
  }, 30_000, 200);
  const [malformed, failing] = [letters.find((l) => l.reason.startsWith('malformed'))!, letters.find((l) => !l.reason.startsWith('malformed'))!];
  expect(malformed).toMatchObject({ consumer: 'analytics', deliveries: 1, eventType: 'OrderPlaced' });
  expect(malformed.reason).toMatch(/malformed: event is not valid JSON/);
  expect(failing).toMatchObject({ consumer: 'analytics', deliveries: 3, eventType: 'StockReserved' });
  expect(failing.reason).toMatch(/failed 3 deliveries; last error: StockReserved .* arrived before OrderPlaced/);
  expect(parseEvent(failing.data)).toMatchObject({ kind: 'known', event: { id: stockReserved.id } });
  expect(await analyticsRows()).toEqual([]);
  // The gauge reads the broker at most every 500 ms: the dead letters may have come in quicker than that since start-up.
  const metrics = await waitFor('the dead letters counted', async () => {
    const text = await analytics.registry.metrics();
    return text.includes('dead_letter_messages{process="analytics"} 2') ? text : undefined;
  }, 5_000, 100);
  expect(metrics).toContain('consumer_messages_total{consumer="analytics",outcome="dead-lettered",process="analytics"} 2');
  expect(metrics).toMatch(/consumer_messages_total\{consumer="analytics",outcome="retried",process="analytics"\} 2\n/);

  // The operator's commands see the same (a real child process, as an operator would run it).
  const env = { ...process.env, NATS_URL: config.NATS_URL, EVENTS_STREAM: config.EVENTS_STREAM, EVENTS_SUBJECT_PREFIX: config.EVENTS_SUBJECT_PREFIX };
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../../scripts/ops/index.ts'), 'dlq', ...args], { env });
  const listed = await cli('list', '--consumer', 'analytics');
  expect(listed.stdout).toContain(`${failing.seq}`);
  expect(listed.stdout).toContain('2 dead letter(s)');
  const shown = await cli('show', String(failing.seq));
  expect(shown.stdout).toContain(stockReserved.id);
  expect(shown.stdout).toContain('arrived before OrderPlaced');

  // The fix: the missing OrderPlaced arrives; then the dead letter is replayed and applied once.
  await publish(envelope('OrderPlaced', orderId, samplePayload('OrderPlaced', orderId), 2));
  await waitFor('OrderPlaced applied', async () => (await analyticsRows()).length === 1);
  const replayed = await cli('replay', String(failing.seq));
  expect(replayed.stdout).toContain(`replayed #${failing.seq} (StockReserved`);
  await waitFor('the replayed event applied', async () => (await analyticsRows())[0]?.status === 'STOCK_RESERVED', 10_000);
  expect(await inboxCount('analytics')).toBe(2);
  const left = await withJetStream((_js, jsm) => listDeadLetters(jsm, config));
  expect(left.map((l) => l.seq)).toEqual([malformed.seq]);

  // Replaying the same dead letter again is refused: it is no longer there.
  await expect(withJetStream((js, jsm) => replayDeadLetter(js, jsm, config, failing.seq))).rejects.toThrow(/No dead letter with sequence/);
  // The replay went to the analytics consumer only: the email consumer never saw a StockReserved.
  expect(await inboxCount('email')).toBe(0);
});

it('reads v1 and v2 events side by side, ignores unknown fields, and skips unknown event types', async () => {
  await start(startAnalyticsConsumer(config, quietLogger));
  const [v1Order, v2Order] = [randomUUID(), randomUUID()];
  const lines = [{ sku: 'MUG-001', quantity: 2, unitPriceCents: 1000 }, { sku: 'LAMP-01', quantity: 3, unitPriceCents: 500 }];
  const v1 = envelope('OrderPlaced', v1Order, { customerId: 'c-1', currency: 'EUR', totalCents: 3500, lines }, 1);
  const v2 = envelope('OrderPlaced', v2Order, { customerId: 'c-2', currency: 'EUR', totalCents: 1000, lines: [lines[0]], itemCount: 2, giftWrap: true }, 2, { traceParent: '00-abc' });
  const unknown = envelope('OrderGiftWrapped', v1Order, { paper: 'gold' }, 1);
  await publish(v1, unknown, v2, envelope('StockReserved', v1Order, { lines: [{ sku: 'MUG-001', quantity: 2 }] }));

  await waitFor('three events applied', async () => (await inboxCount('analytics')) === 3, 10_000);
  const rows = await analyticsRows();
  expect(rows.find((r) => r.order_id === v1Order)).toMatchObject({ item_count: 5, status: 'STOCK_RESERVED' });
  expect(rows.find((r) => r.order_id === v2Order)).toMatchObject({ item_count: 2, status: 'PENDING' });
  expect(await withJetStream((_js, jsm) => listDeadLetters(jsm, config))).toEqual([]);

  // A reader of every event (the rebuild) meets the unknown type and passes it by.
  const rebuilt = await rebuildAnalytics(config, pool);
  expect(rebuilt).toMatchObject({ done: 4, applied: 3, skipped: 0 });
  expect(await analyticsRows()).toEqual(rows);

  // The operator's command does the same (a real child process, as an operator would run it).
  const env = { ...process.env, DATABASE_URL: database.url, NATS_URL: config.NATS_URL, EVENTS_STREAM: config.EVENTS_STREAM, EVENTS_SUBJECT_PREFIX: config.EVENTS_SUBJECT_PREFIX };
  const ops = await promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../../scripts/ops/index.ts'), 'analytics', 'rebuild'], { env });
  expect(ops.stdout).toMatch(/^done in [\d.]+ s: 2 orders \(was 2\), from stream \S+ up to #4$/m);
  expect(await analyticsRows()).toEqual(rows);
  expect(await inboxCount('analytics')).toBe(3);
});

it('keeps a rebuild and live applies apart: a live apply waits while a rebuild holds the lock, and a rebuild waits for live applies', async () => {
  const orderId = randomUUID();
  const parsed = parseEvent(JSON.stringify(envelope('OrderPlaced', orderId, samplePayload('OrderPlaced', orderId), 2)));
  if (parsed.kind !== 'known') throw new Error('test event did not parse');
  const holder = await pool.connect();
  try {
    const settledWithin = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);
    // As a rebuild holds it: the live apply waits, then applies.
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [ANALYTICS_LOCK_ID]);
    const live = applyAnalyticsEvent(pool, parsed.event);
    expect(await settledWithin(live, 500)).toBe(false);
    await holder.query('COMMIT');
    expect(await live).toBe('applied');

    // As a live apply holds it: the rebuild waits, then rebuilds.
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock_shared($1::bigint)', [ANALYTICS_LOCK_ID]);
    const rebuild = rebuildAnalytics(config, pool);
    expect(await settledWithin(rebuild, 500)).toBe(false);
    await holder.query('COMMIT');
    expect(await rebuild).toMatchObject({ ordersBefore: 1, ordersAfter: 0, done: 0 }); // nothing in the stream: the model is emptied
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }
});

it('applies each event once when every event is delivered twice: one email per order, each order counted once, and a rebuild ends in the same state', async () => {
  const relay = await start(startOutboxRelay(config, quietLogger));
  await start(startAnalyticsConsumer(config, quietLogger));
  await start(startEmailConsumer(config, quietLogger));
  const confirmedPath: EventType[] = ['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed'];
  const cancelledPath: EventType[] = ['OrderPlaced', 'StockReserved', 'OrderCancelled'];
  const orders = Array.from({ length: 12 }, (_, i) => ({ id: randomUUID(), path: i % 3 === 2 ? cancelledPath : confirmedPath }));
  await Promise.all(orders.map(async (o) => { for (const type of o.path) await writeOutboxEvent(pool, o.id, type); }));
  const totalEvents = orders.reduce((n, o) => n + o.path.length, 0);
  await waitFor('outbox published', async () => (await unpublishedCount(pool)) === 0, 20_000);
  await relay.stop();
  running.splice(running.indexOf(relay), 1);
  await waitFor('first deliveries applied', async () => (await inboxCount('analytics')) === totalEvents && smtp.received.length === 12, 20_000);

  // Every event again, under a new Nats-Msg-Id: as after a relay crash past the duplicate window.
  const original = await readStream(config);
  expect(original).toHaveLength(totalEvents);
  await withJetStream(async (js) => {
    await Promise.all(original.map((m) => js.publish(m.subject, JSON.stringify(m.event), { msgID: `again-${m.event.id}` })));
  });
  await waitFor('the duplicates delivered', async () => (await readStream(config)).length === 2 * totalEvents);
  await waitFor('both consumers past the duplicates', async () => withJetStream(async (_js, jsm) => {
    const infos = await Promise.all(['analytics', 'email'].map((name) => jsm.consumers.info(config.EVENTS_STREAM, name)));
    return infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0);
  }), 20_000);
  await sleep(300);

  expect(smtp.received).toHaveLength(12);
  expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(12);
  expect(await inboxCount('analytics')).toBe(totalEvents);
  const rows = await analyticsRows();
  expect(rows).toHaveLength(12);
  expect(rows.filter((r) => r.status === 'CONFIRMED')).toHaveLength(8);
  expect(rows.filter((r) => r.status === 'CANCELLED')).toHaveLength(4);

  // Rebuild from the stream (which now holds every event twice): the same rows, the same inbox.
  const progress: number[] = [];
  const result = await rebuildAnalytics(config, pool, (p) => progress.push(p.done));
  expect(result).toMatchObject({ total: 2 * totalEvents, done: 2 * totalEvents, applied: totalEvents, skipped: 0, ordersBefore: 12, ordersAfter: 12 });
  expect(progress.at(-1)).toBe(2 * totalEvents);
  expect(await analyticsRows()).toEqual(rows);
  expect(await inboxCount('analytics')).toBe(totalEvents);
});

it('addresses each email from the order store: a v1 event\'s own address is not used, an erased order is skipped once with a log line, never retried', async () => {
  const log = recordingLogger();
  const consumer = await startEmailConsumer(config, log.logger);
  running.push(consumer);
  const [stored, erased, gone] = [randomUUID(), randomUUID(), randomUUID()];
  await insertSampleOrder(pool, stored, 'stored@shop.example');
  await insertSampleOrder(pool, erased, ERASED_EMAIL);
  // v1, written before v2 dropped the address from the event: still consumed, its address ignored.
  const v1 = envelope('OrderConfirmed', stored, { ...samplePayload('OrderConfirmed', stored), customerEmail: 'in-the-event@shop.example' }, 1);
  await publish(v1, envelope('OrderCancelled', erased, samplePayload('OrderCancelled', erased), 2), envelope('OrderConfirmed', gone, samplePayload('OrderConfirmed', gone), 2));

  await waitFor('all three handled', async () => (await consumer.registry.metrics()).includes('outcome="ignored",process="email"} 2') && smtp.received.length === 1, 15_000, 100);
  await waitFor('nothing left with the broker', () => withJetStream(async (_js, jsm) => {
    const info = await jsm.consumers.info(config.EVENTS_STREAM, 'email');
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }), 10_000);
  await sleep(500); // time for a redelivery, were there one

  expect(smtp.received.map((m) => m.to)).toEqual([['stored@shop.example']]);
  expect(await db.sentEmail.findMany({ select: { orderId: true, recipient: true } })).toEqual([{ orderId: stored, recipient: 'stored@shop.example' }]);
  const metrics = await consumer.registry.metrics();
  expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="applied",process="email"} 1');
  expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="ignored",process="email"} 2');
  expect(metrics).not.toContain('outcome="retried"');
  expect(metrics).not.toContain('outcome="dead-lettered"');
  expect(log.messages(30).filter((m) => m === 'no email sent: the order\'s personal data was erased')).toHaveLength(2);
});

it('does not mail an event again once its inbox row is pruned: the mail marked SENT says it was handled', async () => {
  const event = await customerFacing('OrderConfirmed', randomUUID());
  const parsed = parseEvent(JSON.stringify(event));
  if (parsed.kind !== 'known') throw new Error('test event did not parse');
  const mailer = nodemailer.createTransport(smtp.url);
  try {
    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', parsed.event)).toBe('applied');
    await pool.query(`DELETE FROM processed_events WHERE consumer = 'email' AND event_id = $1`, [event.id]); // past INBOX_RETENTION
    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', parsed.event)).toBe('already-processed');
  } finally {
    mailer.close();
  }
  expect(smtp.received.filter((m) => m.messageId === messageIdFor(event.id))).toHaveLength(1);
});

it('makes a resend after a crash between SMTP and the record detectable: same Message-ID, attempts counted', async () => {
  const orderId = randomUUID();
  const event = await customerFacing('OrderConfirmed', orderId);
  const parsed = parseEvent(JSON.stringify(event));
  if (parsed.kind !== 'known') throw new Error('test event did not parse');
  const mailer = nodemailer.createTransport(smtp.url);
  try {
    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', parsed.event)).toBe('applied');
    // Simulate the crash: the mail went out, the process died before recording it.
    await db.processedEvent.deleteMany({ where: { consumer: 'email', eventId: event.id } });
    await db.sentEmail.update({ where: { eventId: event.id }, data: { status: 'SENDING' } });

    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', parsed.event)).toBe('applied');
    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', parsed.event)).toBe('already-processed');
  } finally {
    mailer.close();
  }
  expect(smtp.received.map((m) => m.messageId)).toEqual([messageIdFor(event.id), messageIdFor(event.id)]);
  expect(await db.sentEmail.findUnique({ where: { eventId: event.id } })).toMatchObject({ status: 'SENT', attempts: 2, messageId: messageIdFor(event.id) });
});

/**
 * Takes this test's database away the way a Postgres restart does: every connection to it is
 * terminated and new ones are refused, until `restore` (or `forMs` later).
 */
async function databaseOutage(forMs?: number) {
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  const allowConnections = (allow: boolean) => admin.query(`ALTER DATABASE "${database.name}" WITH ALLOW_CONNECTIONS ${allow}`);
  pool.on('error', () => undefined); // the test's own idle connections are terminated too
  await allowConnections(false);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
  let restored: Promise<void> | undefined;
  const restore = () => (restored ??= allowConnections(true).then(() => admin.end()));
  const over = forMs === undefined ? undefined : sleep(forMs).then(restore);
  return { restore, over };
}

/** A logger that keeps what the code under test logs, to see which path it took. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { logger, messages: (level: number) => lines.filter((l) => l.level === level).map((l) => l.msg) };
}

it('sends an email once when the database goes away between the SMTP send and marking it sent', async () => {
  let outage: Awaited<ReturnType<typeof databaseOutage>> | undefined;
  // The moment the SMTP server accepts the mail, the database goes away for 3 s.
  const cutting = await startSmtpSink({ port: 0, beforeAccept: async () => { outage ??= await databaseOutage(3_000); } });
  let consumer: RunningProcess | undefined;
  try {
    // Redeliveries would come quickly and often; the outage outlasts the ack wait (the handler must keep the message in progress).
    const cfg = { ...config, SMTP_URL: cutting.url, CONSUMER_MAX_DELIVER: 50, CONSUMER_ACK_WAIT: 2_000 };
    const log = recordingLogger();
    const started = await startEmailConsumer(cfg, log.logger);
    consumer = started;
    const orderId = randomUUID();
    const event = await customerFacing('OrderConfirmed', orderId);
    await publish(event);

    await waitFor('the email marked SENT', async () => (await db.sentEmail.findUnique({ where: { eventId: event.id } }))?.status === 'SENT', 30_000, 100);
    expect(outage).toBeDefined();
    await outage!.over;
    await waitFor('the message acknowledged', () => withJetStream(async (_js, jsm) => {
      const info = await jsm.consumers.info(config.EVENTS_STREAM, 'email');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }), 10_000);
    await sleep(1_000); // time for a redelivery to send again, were there one

    expect(cutting.received.map((m) => m.messageId)).toEqual([messageIdFor(event.id)]);
    expect(await db.sentEmail.findUnique({ where: { eventId: event.id } })).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(await inboxCount('email')).toBe(1);
    const metrics = await started.registry.metrics();
    expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="applied",process="email"} 1');
    expect(metrics).not.toContain('outcome="retried"');
    // It was the mark that failed and was retried in-process (not a lucky timing).
    expect(log.messages(40)).toContain('email sent, but marking it sent failed; retrying without sending again');
    expect(log.messages(30)).toContain('email marked sent after the database came back');
  } finally {
    // The consumer before its SMTP server: its pool holds a connection to it.
    await cleanUp(() => outage?.restore(), () => consumer?.stop(), () => cutting.stop());
  }
});

it('gives up marking after its bound, and only then does the redelivery resend, with the same Message-ID', async () => {
  const orderId = randomUUID();
  const parsed = parseEvent(JSON.stringify(await customerFacing('OrderCancelled', orderId)));
  if (parsed.kind !== 'known') throw new Error('test event did not parse');
  const event = parsed.event;
  let outage: Awaited<ReturnType<typeof databaseOutage>> | undefined;
  const cutting = await startSmtpSink({ port: 0, beforeAccept: async () => { outage ??= await databaseOutage(); } });
  const mailer = nodemailer.createTransport(cutting.url);
  try {
    const started = Date.now();
    await expect(sendEmailForEvent(pool, mailer, 'orders@shop.example', event, quietLogger, { markRetry: { baseDelayMs: 50, giveUpAfterMs: 800 } }))
      .rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
    await outage!.restore();
    expect(await db.sentEmail.findUnique({ where: { eventId: event.id } })).toMatchObject({ status: 'SENDING', attempts: 1 });
    // The redelivery after the handler gave up: the one case of a second copy, detectable by its Message-ID.
    expect(await sendEmailForEvent(pool, mailer, 'orders@shop.example', event)).toBe('applied');
  } finally {
    await outage?.restore();
    mailer.close();
    await cutting.stop();
  }
  expect(cutting.received.map((m) => m.messageId)).toEqual([messageIdFor(event.id), messageIdFor(event.id)]);
  expect(await db.sentEmail.findUnique({ where: { eventId: event.id } })).toMatchObject({ status: 'SENT', attempts: 2 });
});

it('keeps each consumer\'s last backlog report where the operator page reads it: one row per consumer, replaced by the next report', async () => {
  const consumer = await start(startAnalyticsConsumer(config, quietLogger));
  // Reported at start-up, from the broker: nothing pending yet.
  const first = await waitFor('the start-up report', async () => (await readConsumerLag(db)).find((r) => r.consumer === 'analytics'), 5_000);
  expect(first).toMatchObject({ pending: 0, ackPending: 0, redelivered: 0, deadLetters: 0 });
  await consumer.stop();
  running.splice(running.indexOf(consumer), 1);

  await recordConsumerLag(pool, 'email', { pending: 7, ackPending: 3, redelivered: 1, dlq: 2 });
  await recordConsumerLag(pool, 'email', { pending: 5, ackPending: 2, redelivered: 0, dlq: 4 });
  const now = new Date();
  const lag = await readConsumerLag(db, now);
  expect(lag.map((r) => r.consumer)).toEqual(['analytics', 'email']);
  expect(lag[1]).toMatchObject({ consumer: 'email', pending: 5, ackPending: 2, redelivered: 0, deadLetters: 4 });
  expect(lag[1]!.ageSeconds).toBeLessThan(5);
});

it('leaves nothing running when its start fails (metrics port taken): no backlog reports, the caller\'s clean-up run', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  let reports = 0;
  let cleanups = 0;
  try {
    await expect(startEventConsumer({ ...config, METRICS_PORT: port, HTTP_HOST: '127.0.0.1' }, quietLogger, {
      name: EMAIL_CONSUMER, handles: CUSTOMER_FACING, handle: async () => 'applied',
      reportBacklog: async () => { reports += 1; },
    }, async () => { cleanups += 1; })).rejects.toThrow();
    await sleep(300); // a report started before the failure would have landed by now
    expect({ reports, cleanups }).toEqual({ reports: 0, cleanups: 1 });
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});
