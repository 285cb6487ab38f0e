import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Config } from '../../common/config';
import { eventSubject } from '../../common/events';
import { connectNats, dlqStreamName, dlqSubject, ensureDurableConsumer, replaySubject, setupStreams } from '../../common/nats';
import { natsScope, type NatsUser } from '../../common/nats-users';
import { readStream, startOwnNats, streamMessageCount, type OwnNats } from '../harness/pipeline';
import { testConfig } from '../harness/system';

/**
 * The NATS users of common/nats-users.ts on a real nats-server configured exactly as in
 * production (permissions for this test's stream and prefix, not the wildcards `npm test`
 * grants): what each process's credentials can and cannot do.
 */
let nats: OwnNats;
let config: Config;
const open: NatsConnection[] = [];

beforeAll(async () => {
  const base = testConfig({});
  nats = await startOwnNats(natsScope(base));
  config = { ...base, NATS_URL: nats.url };
  await setupStreams(config);
});

afterEach(async () => {
  for (const nc of open.splice(0)) await nc.close();
});

afterAll(async () => {
  await nats?.destroy();
});

async function as(user: NatsUser): Promise<{ nc: NatsConnection; js: ReturnType<typeof jetstream>; jsm: JetStreamManager }> {
  const nc = await connectNats(config, user, { name: `permissions-test-${user}` });
  open.push(nc);
  return { nc, js: jetstream(nc, { timeout: 5_000 }), jsm: await jetstreamManager(nc) };
}

const event = (type: string) => JSON.stringify({ id: crypto.randomUUID(), type, forged: true });
const PERMISSION = /permissions violation/i;

async function streamExists(stream: string): Promise<boolean> {
  const { jsm } = await as('admin');
  return jsm.streams.info(stream).then(() => true, () => false);
}

it("refuses a consumer's credentials to publish an event, to delete or purge the stream, or to read another consumer's durable", async () => {
  const email = await as('email');
  await expect(email.js.publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderConfirmed'), event('OrderConfirmed'))).rejects.toThrow(PERMISSION);
  await expect(email.js.publish(replaySubject(config, 'email', 'OrderConfirmed'), event('OrderConfirmed'))).rejects.toThrow(PERMISSION);
  expect(await streamMessageCount(config)).toBe(0);

  await expect(email.jsm.streams.delete(config.EVENTS_STREAM)).rejects.toThrow(PERMISSION);
  await expect(email.jsm.streams.purge(config.EVENTS_STREAM)).rejects.toThrow(PERMISSION);
  await expect(email.jsm.streams.update(config.EVENTS_STREAM, { max_msgs: 1 })).rejects.toThrow(PERMISSION);
  await expect(email.jsm.streams.delete(dlqStreamName(config))).rejects.toThrow(PERMISSION);
  expect(await streamExists(config.EVENTS_STREAM)).toBe(true);
  expect(await streamExists(dlqStreamName(config))).toBe(true);

  // Its own durable it may create and read; the analytics user may not touch it.
  await ensureDurableConsumer(email.jsm, config.EVENTS_STREAM, 'email', { filterSubjects: [eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderConfirmed')], maxDeliver: 3, ackWaitMs: 5_000, maxAckPending: 10 });
  expect((await email.jsm.consumers.info(config.EVENTS_STREAM, 'email')).name).toBe('email');
  const analytics = await as('analytics');
  await expect(analytics.js.consumers.get(config.EVENTS_STREAM, 'email')).rejects.toThrow(PERMISSION);
  await expect(analytics.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${config.EVENTS_STREAM}.email`, JSON.stringify({ batch: 1 }), { timeout: 5_000 })).rejects.toThrow(PERMISSION);
  await expect(analytics.js.publish(dlqSubject(config, 'email'), 'not yours')).rejects.toThrow(PERMISSION);
  // Nor read the email consumer's deliveries off its reply subjects.
  const sniff = analytics.nc.subscribe('_INBOX_email.>');
  await expect((async () => { for await (const m of sniff) return m; })()).rejects.toThrow(PERMISSION);
});

it("lets the relay's credentials publish events, and nothing that consumes, dead-letters or replays", async () => {
  const relay = await as('relay');
  const subject = eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderPlaced');
  const ack = await relay.js.publish(subject, event('OrderPlaced'));
  expect(ack.stream).toBe(config.EVENTS_STREAM);
  expect((await readStream(config)).map((m) => m.subject)).toEqual([subject]);

  // The email durable exists (the first test made it): the relay can neither look it up nor pull from it.
  await expect(relay.js.consumers.get(config.EVENTS_STREAM, 'email')).rejects.toThrow(PERMISSION);
  await expect(relay.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${config.EVENTS_STREAM}.email`, JSON.stringify({ batch: 1 }), { timeout: 5_000 })).rejects.toThrow(PERMISSION);
  await expect(relay.jsm.consumers.add(config.EVENTS_STREAM, { durable_name: 'relay-reader' })).rejects.toThrow(PERMISSION);
  await expect(relay.js.publish(dlqSubject(config, 'email'), 'x')).rejects.toThrow(PERMISSION);
  await expect(relay.js.publish(replaySubject(config, 'email', 'OrderConfirmed'), event('OrderConfirmed'))).rejects.toThrow(PERMISSION);
  await expect(relay.jsm.streams.delete(config.EVENTS_STREAM)).rejects.toThrow(PERMISSION);
  expect(await streamMessageCount(config)).toBe(1);
});

it('lets the dlq tool read the dead letters and replay, but not publish a new event or touch the events stream', async () => {
  const dlq = await as('dlq');
  expect((await dlq.jsm.streams.info(dlqStreamName(config))).config.name).toBe(dlqStreamName(config));
  const replay = await dlq.js.publish(replaySubject(config, 'analytics', 'OrderPlaced'), event('OrderPlaced'));
  expect(replay.stream).toBe(config.EVENTS_STREAM);
  await expect(dlq.js.publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderConfirmed'), event('OrderConfirmed'))).rejects.toThrow(PERMISSION);
  await expect(dlq.jsm.streams.info(config.EVENTS_STREAM)).rejects.toThrow(PERMISSION);
  await expect(dlq.jsm.streams.delete(dlqStreamName(config))).rejects.toThrow(PERMISSION);
});

it('lets the inspector read the streams, their messages and the consumers, and change nothing', async () => {
  const inspector = await as('inspector');
  const { first_seq: first } = (await inspector.jsm.streams.info(config.EVENTS_STREAM)).state;
  expect((await inspector.jsm.streams.getMessage(config.EVENTS_STREAM, { seq: first }))?.subject).toBe(eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderPlaced'));
  expect((await inspector.jsm.streams.info(dlqStreamName(config))).config.name).toBe(dlqStreamName(config));
  expect((await inspector.jsm.consumers.info(config.EVENTS_STREAM, 'email')).name).toBe('email');
  await expect(inspector.js.publish(eventSubject(config.EVENTS_SUBJECT_PREFIX, 'OrderPlaced'), event('OrderPlaced'))).rejects.toThrow(PERMISSION);
  await expect(inspector.js.publish(dlqSubject(config, 'email'), 'x')).rejects.toThrow(PERMISSION);
  await expect(inspector.jsm.streams.deleteMessage(config.EVENTS_STREAM, first)).rejects.toThrow(PERMISSION);
  await expect(inspector.jsm.consumers.add(config.EVENTS_STREAM, { durable_name: 'inspector-reader' })).rejects.toThrow(PERMISSION);
  await expect(inspector.nc.request(`$JS.API.CONSUMER.MSG.NEXT.${config.EVENTS_STREAM}.email`, JSON.stringify({ batch: 1 }), { timeout: 5_000 })).rejects.toThrow(PERMISSION);
  await expect(inspector.jsm.streams.delete(config.EVENTS_STREAM)).rejects.toThrow(PERMISSION);
  expect(await streamMessageCount(config)).toBe(2);
});

it('refuses a wrong password, an unknown user and an anonymous connection', async () => {
  await expect(connectNats({ ...config, NATS_PASSWORD: 'dev-nats-wrong' }, 'relay', { name: 'wrong-password' })).rejects.toThrow(/authorization/i);
  await expect(connectNats({ ...config, NATS_USER: 'nobody', NATS_PASSWORD: 'x' }, 'relay', { name: 'unknown-user' })).rejects.toThrow(/authorization/i);
  await expect(connect({ servers: config.NATS_URL, name: 'anonymous' })).rejects.toThrow(/authorization/i);
});

it("applies the dead-letter stream's retention, and changed settings, to existing streams on setup", async () => {
  const { jsm } = await as('admin');
  const nanosPerDay = 86_400 * 1e9;
  expect((await jsm.streams.info(dlqStreamName(config))).config.max_age).toBe(30 * nanosPerDay);
  await setupStreams({ ...config, DLQ_MAX_AGE: 7 * 86_400_000, EVENTS_MAX_AGE: 14 * 86_400_000 });
  expect((await jsm.streams.info(dlqStreamName(config))).config.max_age).toBe(7 * nanosPerDay);
  expect((await jsm.streams.info(config.EVENTS_STREAM)).config.max_age).toBe(14 * nanosPerDay);
  expect(await streamMessageCount(config)).toBe(2); // updated in place, nothing lost
});
