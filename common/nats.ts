import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Config } from './config';
import { inboxPrefix, natsCredentials, type NatsUser } from './nats-users';

/**
 * NATS client: @nats-io/transport-node + @nats-io/jetstream, the maintained continuation of the
 * legacy `nats` package. The stream configuration lives here and nowhere else.
 *
 * Every process connects as its own NATS user with only the subjects it needs
 * (common/nats-users.ts). The streams are created and updated by the admin user alone, in
 * `setupStreams` (`npm run ops -- nats setup`); each consumer creates and updates its own durable.
 *
 * Subjects (prefix = EVENTS_SUBJECT_PREFIX, `orders.events` by default):
 * - `<prefix>.<EventType>`: every domain event, published by the outbox relay;
 * - `<prefix>._replay.<consumer>.<EventType>`: a dead letter replayed to one consumer only;
 * - `dlq.<prefix>.<consumer>`: dead letters, in the stream `<EVENTS_STREAM>_DLQ`.
 *
 * Durability (fsync): JetStream acknowledges a publish once the message is in its store. On one
 * node that is the only copy, so our nats-server (dev, tests, benchmark; see scripts/infra.ts)
 * runs with `sync_interval: always`: fsync before the ack, so an acknowledged event survives a
 * power loss. That matters because the relay marks the outbox row published on the ack and will
 * never send it again. In production run the stream with 3 replicas (EVENTS_STREAM_REPLICAS=3):
 * an ack then means a quorum of nodes stored it, and the server default (fsync every 2 min) is
 * the usual, faster choice.
 */
export type NatsConnectSettings = Pick<Config, 'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD'>;

/** Connects as the user of `role` (or NATS_USER), with that user's own reply-subject prefix. */
export async function connectNats(config: NatsConnectSettings, role: NatsUser, opts: { name?: string; waitOnFirstConnect?: boolean } = {}): Promise<NatsConnection> {
  const { user, pass } = natsCredentials(config, role);
  return connect({
    servers: config.NATS_URL.split(','), name: opts.name ?? role, user, pass, inboxPrefix: inboxPrefix(user),
    maxReconnectAttempts: -1, reconnectTimeWait: 1_000, waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    // Without it every request (each JetStream publish) captures a stack trace for its possible error:
    // ~5% of the relay's CPU. Our error lines carry the error's message, not that stack.
    noAsyncTraces: true,
  });
}

type StreamSettings = Pick<Config, 'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX' | 'EVENTS_DUPLICATE_WINDOW' | 'EVENTS_MAX_AGE' | 'EVENTS_STREAM_REPLICAS' | 'DLQ_MAX_AGE'>;

export function dlqStreamName(config: Pick<Config, 'EVENTS_STREAM'>): string {
  return `${config.EVENTS_STREAM}_DLQ`;
}

export function dlqSubject(config: Pick<Config, 'EVENTS_SUBJECT_PREFIX'>, consumer: string): string {
  return `dlq.${config.EVENTS_SUBJECT_PREFIX}.${consumer}`;
}

export function replaySubject(config: Pick<Config, 'EVENTS_SUBJECT_PREFIX'>, consumer: string, type: string): string {
  return `${config.EVENTS_SUBJECT_PREFIX}._replay.${consumer}.${type}`;
}

/** Matches every domain event and nothing else (not replays): one token after the prefix. */
export function allEventsSubject(config: Pick<Config, 'EVENTS_SUBJECT_PREFIX'>): string {
  return `${config.EVENTS_SUBJECT_PREFIX}.*`;
}

async function createOrUpdateStream(jsm: JetStreamManager, streamConfig: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(streamConfig.name);
    await jsm.streams.update(streamConfig.name, streamConfig);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(streamConfig);
  }
}

/**
 * Creates or updates the order events stream: file storage; limits retention so events stay
 * for replays, rebuilds and new consumers (EVENTS_MAX_AGE, 30 days); the duplicate window
 * (EVENTS_DUPLICATE_WINDOW, 2 min) covers a relay crash between the broker's ack and marking
 * the row; old messages are discarded when full, never new ones refused.
 */
export async function ensureEventsStream(jsm: JetStreamManager, config: StreamSettings): Promise<void> {
  await createOrUpdateStream(jsm, {
    name: config.EVENTS_STREAM,
    description: 'Order domain events from the transactional outbox (see docs/asyncapi.json)',
    subjects: [`${config.EVENTS_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(config.EVENTS_MAX_AGE),
    duplicate_window: nanos(config.EVENTS_DUPLICATE_WINDOW),
    num_replicas: config.EVENTS_STREAM_REPLICAS,
  });
}

/**
 * Creates or updates the dead-letter stream: an entry stays until an operator replays or drops
 * it, or for DLQ_MAX_AGE (30 days) at most.
 */
export async function ensureDeadLetterStream(jsm: JetStreamManager, config: StreamSettings): Promise<void> {
  await createOrUpdateStream(jsm, {
    name: dlqStreamName(config),
    description: 'Order events a consumer could not handle; see `npm run dlq -- help`',
    subjects: [`dlq.${config.EVENTS_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(config.DLQ_MAX_AGE),
    duplicate_window: nanos(config.EVENTS_DUPLICATE_WINDOW),
    num_replicas: config.EVENTS_STREAM_REPLICAS,
  });
}

/**
 * Creates both streams, or updates them to the current settings (retention, duplicate window,
 * replicas): run as the admin user by `npm run ops -- nats setup`, on every `npm run dev` and
 * compose start, and by tests before they start a relay or consumer.
 */
export async function setupStreams(config: StreamSettings & NatsConnectSettings): Promise<void> {
  const nc = await connectNats(config, 'admin', { name: 'nats-setup' });
  try {
    const jsm = await natsManager(nc);
    await ensureEventsStream(jsm, config);
    await ensureDeadLetterStream(jsm, config);
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

/** Fails with what to do when a stream the admin should have created is missing. */
export async function requireStream(jsm: JetStreamManager, stream: string): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    throw new Error(`JetStream stream ${stream} does not exist: create it with \`npm run ops -- nats setup\` (admin NATS user)`);
  }
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  opts: { filterSubjects: string[]; maxDeliver: number; ackWaitMs: number; maxAckPending: number },
): Promise<void> {
  const consumerConfig = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: opts.maxDeliver,
    ack_wait: nanos(opts.ackWaitMs),
    max_ack_pending: opts.maxAckPending,
    filter_subjects: opts.filterSubjects,
  };
  try {
    await jsm.consumers.info(stream, durable);
    await jsm.consumers.update(stream, durable, consumerConfig);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message)) throw err;
    await jsm.consumers.add(stream, consumerConfig);
  }
}

export async function natsManager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}
