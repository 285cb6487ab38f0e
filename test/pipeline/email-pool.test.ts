import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Pool } from 'pg';
import type { Config } from '../../common/config';
import { eventSchemaVersions, eventSubject } from '../../common/events';
import { connectNats, setupStreams } from '../../common/nats';
import { migrate } from '../../prisma/migrate';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../../scripts/infra/smtp-sink';
import { createMailer, startEmailConsumer } from '../../workers/email-consumer';
import type { RunningConsumer } from '../../workers/event-consumer';
import { messageIdFor } from '../../workers/email-templates';
import { cleanUp } from '../harness/clean-up';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { insertSampleOrder, samplePayload } from '../harness/pipeline';
import { quietLogger, testConfig, waitFor } from '../harness/system';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';

/**
 * The email consumer's pooled SMTP connections, against a real SMTP server, Postgres and NATS:
 * connections reused and closed on stop, a connection the server closed while idle replaced, a
 * connection broken during a transfer retried through a redelivery.
 */
let database: TestDatabase;
let pool: Pool;
let running: RunningConsumer | undefined;
const sinks: SmtpSink[] = [];
const proxies: TcpProxy[] = [];

beforeEach(async () => {
  database = await createTestDatabase('email_pool');
  await migrate(database.url);
  pool = new Pool({ connectionString: database.url, max: 4 });
});

afterEach(() => cleanUp(
  // The consumer before the SMTP server: its pool holds a connection to it.
  () => { const consumer = running; running = undefined; return consumer?.stop(); },
  ...sinks.splice(0).map((sink) => () => sink.stop()),
  ...proxies.splice(0).map((proxy) => () => proxy.stop()),
  () => pool.end(),
  () => database.drop(),
));

async function startSink(opts: Omit<SmtpSinkOptions, 'port'> = {}): Promise<SmtpSink> {
  const sink = await startSmtpSink({ port: 0, ...opts });
  sinks.push(sink);
  return sink;
}

async function startConsumer(smtpUrl: string, overrides: Partial<Record<keyof Config, string>> = {}) {
  const config = testConfig({
    DATABASE_URL: database.url, SMTP_URL: smtpUrl,
    CONSUMER_RETRY_BASE_DELAY: '50ms', CONSUMER_RETRY_MAX_DELAY: '200ms', ...overrides,
  });
  await setupStreams(config);
  running = await startEmailConsumer(config, quietLogger);
  return { config, consumer: running };
}

/** Publishes an OrderConfirmed of a new order (its row written, with the address); its event id. */
async function publishConfirmed(config: Config, eventId = randomUUID()): Promise<string> {
  const orderId = randomUUID();
  await insertSampleOrder(pool, orderId);
  const event = {
    id: eventId, type: 'OrderConfirmed', schemaVersion: eventSchemaVersions.OrderConfirmed, occurredAt: new Date().toISOString(),
    orderId, correlationId: 'corr-test', causationId: null, payload: samplePayload('OrderConfirmed', orderId),
  };
  const nc = await connectNats(config, 'admin', { name: 'email-pool-test' });
  try {
    await jetstream(nc).publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, event.type), JSON.stringify(event), { msgID: event.id });
  } finally {
    await nc.drain();
  }
  return event.id;
}

async function sentEmail(eventId: string): Promise<{ status: string; attempts: number } | undefined> {
  const { rows } = await pool.query<{ status: string; attempts: number }>('SELECT status, attempts FROM sent_emails WHERE event_id = $1', [eventId]);
  return rows[0];
}

const markedSent = (eventId: string) => waitFor(`the email of ${eventId} marked SENT`, async () => (await sentEmail(eventId))?.status === 'SENT', 15_000, 50);

it('sends mail after mail over one pooled connection, and closes it when the consumer stops', async () => {
  const sink = await startSink();
  const { config, consumer } = await startConsumer(sink.url, { SMTP_POOL_MAX_CONNECTIONS: '1' });
  for (let i = 0; i < 3; i++) await markedSent(await publishConfirmed(config));

  expect(sink.received).toHaveLength(3);
  expect(sink.connections()).toEqual({ open: 1, accepted: 1 });

  await consumer.stop();
  running = undefined;
  await waitFor('the pooled connection closed', async () => sink.connections().open === 0, 2_000, 20);
});

it('sends the next mail over a new connection after the SMTP server closed the idle one', async () => {
  const sink = await startSink({ idleTimeoutMs: 1_500 }); // smtp-server's socket timeout: any pause, so not too short for a busy machine
  const { config, consumer } = await startConsumer(sink.url);
  const first = await publishConfirmed(config);
  await markedSent(first);
  await waitFor('the server closed the idle connection', async () => sink.connections().open === 0, 5_000, 20);

  const second = await publishConfirmed(config);
  await markedSent(second);

  expect(sink.received.map((m) => m.messageId)).toEqual([messageIdFor(first), messageIdFor(second)]);
  expect(sink.connections().accepted).toBeGreaterThanOrEqual(2);
  expect(await sentEmail(second)).toEqual({ status: 'SENT', attempts: 1 });
  const metrics = await consumer.registry.metrics();
  expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="applied",process="email"} 2');
  expect(metrics).not.toContain('outcome="retried"');
});

it('retries a mail whose pooled connection broke during the transfer: the redelivery sends it, nothing is lost', async () => {
  let breakOn: string | undefined;
  let proxy: TcpProxy | undefined;
  // The moment the server has the mail, before its 250 reaches the consumer, the network breaks.
  const sink = await startSink({ beforeAccept: async (mail) => { if (mail.messageId === breakOn) { breakOn = undefined; proxy!.cut(); } } });
  proxy = await startTcpProxy(`127.0.0.1:${sink.port}`);
  proxies.push(proxy);
  const { config, consumer } = await startConsumer(`smtp://${proxy.address}`, { CONSUMER_MAX_DELIVER: '20' });
  await markedSent(await publishConfirmed(config)); // the pool now holds a connection

  const eventId = randomUUID();
  breakOn = messageIdFor(eventId);
  await markedSent(await publishConfirmed(config, eventId));

  expect(breakOn).toBeUndefined(); // the break happened
  // Sent again with the same Message-ID: the receiving side can drop the copy, as after a crash.
  expect(sink.received.filter((m) => m.messageId === messageIdFor(eventId))).toHaveLength(2);
  expect(await sentEmail(eventId)).toEqual({ status: 'SENT', attempts: 2 });
  const metrics = await consumer.registry.metrics();
  expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="retried",process="email"} 1');
  expect(metrics).toContain('consumer_messages_total{consumer="email",outcome="applied",process="email"} 2');
});

it('lets the SMTP server stop at once while a pooled sender keeps its connection open between mails', async () => {
  const sink = await startSink(); // stopped here; afterEach stops it again (a no-op) if the test fails first
  const mailer = createMailer({ SMTP_URL: sink.url, SMTP_POOL_MAX_CONNECTIONS: 1, SMTP_POOL_MAX_MESSAGES: 100 });
  try {
    await mailer.sendMail({ from: 'orders@shop.example', to: 'c@shop.example', subject: 's', text: 't' });
    expect(sink.connections().open).toBe(1);
    // smtp-server alone would wait 30 s for that connection before closing it.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 5_000); });
    try {
      expect(await Promise.race([sink.stop().then(() => true), gaveUp])).toBe(true);
    } finally {
      clearTimeout(timer);
    }
    expect(sink.connections().open).toBe(0);
  } finally {
    mailer.close();
  }
});
