import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Config } from '../common/config';
import { MalformedEventError, parseEvent, type DomainEvent } from '../common/events';
import type { Logger } from '../common/logger';
import { connectNats, ensureDurableConsumer, ensureEventsStream, natsManager } from '../common/nats';
import type { RunningProcess } from '../common/run-process';

export type HandleResult = 'applied' | 'already-processed' | 'ignored';

export interface EventConsumerSpec {
  /** Durable consumer name; also the consumer's key in the inbox table. */
  name: string;
  /** Event types this consumer cares about; others are acknowledged and skipped. */
  handles: ReadonlySet<string>;
  /** Applies the event's effect durably (with its inbox row) before returning. */
  handle(event: DomainEvent): Promise<HandleResult>;
  maxDeliver?: number;
  ackWaitMs?: number;
}

/** Delay before redelivery after a transient failure: grows with each delivery, capped at 1 min. */
export function redeliveryDelayMs(deliveryCount: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, deliveryCount - 1));
}

/** Decides what to do with one message; acks only after the handler made its effect durable. */
export async function processMessage(msg: JsMsg, spec: EventConsumerSpec, logger: Logger): Promise<void> {
  let parsed;
  try {
    parsed = parseEvent(msg.data);
  } catch (err) {
    if (err instanceof MalformedEventError) {
      logger.error({ seq: msg.seq, subject: msg.subject, reason: err.message }, 'malformed event; terminating delivery');
      msg.term(err.message);
      return;
    }
    throw err;
  }
  if (parsed.kind === 'unknown-type' || !spec.handles.has(parsed.event.type)) {
    msg.ack(); // not mine: an event type this consumer does not know or need
    return;
  }
  try {
    const result = await spec.handle(parsed.event);
    logger.debug({ eventId: parsed.event.id, type: parsed.event.type, result }, 'event handled');
    msg.ack();
  } catch (err) {
    const delay = redeliveryDelayMs(msg.info.deliveryCount);
    logger.warn({ eventId: parsed.event.id, type: parsed.event.type, err: (err as Error).message, redeliverInMs: delay }, 'event handling failed; will be redelivered');
    msg.nak(delay);
  }
}

/** Runs a durable pull consumer on the order events stream until stopped. */
export async function startEventConsumer(config: Config, logger: Logger, spec: EventConsumerSpec, cleanup: () => Promise<void> = async () => undefined): Promise<RunningProcess> {
  const nc: NatsConnection = await connectNats(config.NATS_URL, spec.name);
  const jsm = await natsManager(nc);
  await ensureEventsStream(jsm, config);
  await ensureDurableConsumer(jsm, config.EVENTS_STREAM, spec.name, {
    filterSubjects: [...spec.handles].map((type) => `${config.EVENTS_SUBJECT_PREFIX}.${type}`),
    maxDeliver: spec.maxDeliver ?? 10,
    ackWaitMs: spec.ackWaitMs ?? 30_000,
  });
  const consumer = await jetstream(nc).consumers.get(config.EVENTS_STREAM, spec.name);
  const messages = await consumer.consume({ max_messages: 64 });
  const loop = (async () => {
    for await (const msg of messages) {
      await processMessage(msg, spec, logger).catch((err: unknown) => {
        logger.error({ err }, 'unexpected consumer error; message will be redelivered');
        msg.nak(redeliveryDelayMs(msg.info.deliveryCount));
      });
    }
  })();
  logger.info({ durable: spec.name, stream: config.EVENTS_STREAM }, 'event consumer running');
  return {
    async stop() {
      await messages.close();
      await loop;
      await nc.drain();
      await cleanup();
    },
  };
}
