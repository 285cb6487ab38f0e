import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Config } from './config';

/**
 * NATS client: @nats-io/transport-node + @nats-io/jetstream, the maintained continuation of the
 * legacy `nats` package.
 */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
}

/** How long JetStream remembers a Nats-Msg-Id to drop a re-published duplicate. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * Creates or updates the order events stream. File storage so events survive a broker restart;
 * limits retention (events stay for replay and new consumers) for 30 days.
 */
export async function ensureEventsStream(jsm: JetStreamManager, config: Pick<Config, 'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX'>): Promise<void> {
  const streamConfig = {
    name: config.EVENTS_STREAM,
    subjects: [`${config.EVENTS_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(30 * 24 * 60 * 60 * 1000),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  try {
    await jsm.streams.info(config.EVENTS_STREAM);
    await jsm.streams.update(config.EVENTS_STREAM, streamConfig);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(streamConfig);
  }
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  opts: { filterSubjects?: string[]; maxDeliver: number; ackWaitMs: number },
): Promise<void> {
  const consumerConfig = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: opts.maxDeliver,
    ack_wait: nanos(opts.ackWaitMs),
    ...(opts.filterSubjects ? { filter_subjects: opts.filterSubjects } : {}),
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
