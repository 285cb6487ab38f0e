import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../common/config';
import { eventSubject, MalformedEventError, parseEvent, type DomainEvent } from '../common/events';
import type { Logger } from '../common/logger';
import { createProcessRegistry, oncePerScrape, startMetricsServer } from '../common/metrics-server';
import { connectNats, dlqStreamName, ensureDurableConsumer, natsManager, replaySubject, requireStream } from '../common/nats';
import { consumerUser } from '../common/nats-users';
import { withCorrelation } from '../common/correlation-context';
import { contextOfMessage } from '../common/event-headers';
import type { RunningProcess } from '../common/run-process';
import { inSpan, SpanKind } from '../common/tracing';
import { redactEmailAddresses } from '../common/personal-data';
import { sendToDeadLetters } from './dead-letters';
import { KeyedWorkQueue } from './keyed-work-queue';

/**
 * The one way our processes consume events: a durable pull consumer on the events stream.
 *
 * - Ack only after the handler made its effect durable (handlers write an inbox row in the same
 *   transaction as the effect, so a redelivery changes nothing).
 * - Bounded concurrency (CONSUMER_CONCURRENCY); events of one order are handled one at a time,
 *   in stream order.
 * - A handler that runs long tells the broker it is still working, so it is not redelivered.
 * - Transient failure: `nak` with a delay growing per delivery. Malformed payload: straight to the
 *   dead-letter stream, then `term`. Still failing at CONSUMER_MAX_DELIVER: dead-letter stream
 *   with the last error, then `term`. A message that reaches max deliveries without our code
 *   seeing the last one (the process crashed, or the handler outlived the ack wait) is caught from
 *   the broker's MAX_DELIVERIES advisory and dead-lettered too.
 * - An event type the consumer does not handle is "not mine": acknowledged and skipped.
 */
export type HandleResult = 'applied' | 'already-processed' | 'ignored';

export interface EventConsumerSpec {
  /** Durable consumer name; also the consumer's key in the inbox table and in dead letters. */
  name: string;
  /** Event types this consumer cares about. */
  handles: ReadonlySet<string>;
  /** Applies the event's effect durably (with its inbox row) before returning. */
  handle(event: DomainEvent): Promise<HandleResult>;
  /** Keeps the backlog the broker reports where the operator page reads it (workers/consumer-lag.ts), every BACKLOG_REPORT_MS. */
  reportBacklog?(state: BrokerState): Promise<void>;
}

const BACKLOG_REPORT_MS = 10_000;

export interface ConsumerSettings {
  concurrency: number;
  maxDeliver: number;
  ackWaitMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Older events are dead-lettered, not handled: the inbox may have forgotten them (workers/consumer-inbox.ts). */
  inboxRetentionMs?: number;
}

export function consumerSettings(config: Config): ConsumerSettings {
  return {
    concurrency: config.CONSUMER_CONCURRENCY,
    maxDeliver: config.CONSUMER_MAX_DELIVER,
    ackWaitMs: config.CONSUMER_ACK_WAIT,
    retryBaseMs: config.CONSUMER_RETRY_BASE_DELAY,
    retryMaxMs: config.CONSUMER_RETRY_MAX_DELAY,
    inboxRetentionMs: config.INBOX_RETENTION,
  };
}

/** Delay before redelivery after a transient failure: doubles with each delivery, capped. */
export function redeliveryDelayMs(deliveryCount: number, baseMs = 1_000, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, deliveryCount - 1)));
}

type Outcome = 'applied' | 'already-processed' | 'ignored' | 'not-mine' | 'retried' | 'dead-lettered';

interface ConsumerContext {
  spec: EventConsumerSpec;
  settings: ConsumerSettings;
  logger: Logger;
  deadLetter(msg: JsMsg, reason: string): Promise<void>;
}

/** Parses a message, returning what to key it by (its order) or a reason it is poison. */
export function parseMessage(msg: Pick<JsMsg, 'data'>): { event?: DomainEvent; notMine?: true; malformed?: string; key: string } {
  try {
    const parsed = parseEvent(msg.data);
    if (parsed.kind === 'unknown-type') return { notMine: true, key: parsed.envelope.orderId };
    return { event: parsed.event, key: parsed.event.orderId };
  } catch (err) {
    if (err instanceof MalformedEventError) return { malformed: err.message, key: '' };
    throw err;
  }
}

/** Handles one message to the end: ack, nak with delay, or dead letter and term. */
export async function processMessage(msg: JsMsg, parsed: ReturnType<typeof parseMessage>, ctx: ConsumerContext): Promise<Outcome> {
  const { spec, settings, logger } = ctx;
  const deliveries = msg.info.deliveryCount;
  const retryLater = () => msg.nak(redeliveryDelayMs(deliveries, settings.retryBaseMs, settings.retryMaxMs));
  const toDeadLetters = async (why: string): Promise<Outcome> => {
    const reason = redactEmailAddresses(why);
    try {
      await ctx.deadLetter(msg, reason);
    } catch (err) {
      logger.error({ seq: msg.seq, err: errorText(err) }, 'could not store the dead letter; the message will be redelivered');
      retryLater();
      return 'retried';
    }
    msg.term(reason.slice(0, 200));
    return 'dead-lettered';
  };

  if (parsed.malformed !== undefined) {
    logger.error({ seq: msg.seq, subject: msg.subject, reason: redactEmailAddresses(parsed.malformed) }, 'malformed event; moved to the dead-letter stream');
    return toDeadLetters(`malformed: ${parsed.malformed}`);
  }
  const event = parsed.event;
  if (!event || !spec.handles.has(event.type)) {
    msg.ack();
    return 'not-mine';
  }
  // Older than the inbox remembers (the stream kept it longer than EVENTS_MAX_AGE says): it may have
  // been applied, and its inbox row pruned. An operator decides; a replay of it is refused the same way.
  if (settings.inboxRetentionMs !== undefined && Date.now() - Date.parse(event.occurredAt) > settings.inboxRetentionMs) {
    logger.error({ eventId: event.id, type: event.type, occurredAt: event.occurredAt }, 'event older than INBOX_RETENTION; moved to the dead-letter stream');
    return toDeadLetters(`older than INBOX_RETENTION (occurred ${event.occurredAt}): it may have been handled and forgotten; handle it by hand if it never was`);
  }
  // Tell the broker we are still at it, so a slow handler is not redelivered to someone else.
  const heartbeat = setInterval(() => msg.working(), Math.max(1_000, Math.floor(settings.ackWaitMs / 3)));
  try {
    const result = await spec.handle(event);
    clearInterval(heartbeat);
    msg.ack();
    // Debug: the inbox table and the consumer's metrics record each handling; failures log at warn/error.
    logger.debug({ eventId: event.id, type: event.type, result }, 'event handled');
    return result;
  } catch (err) {
    clearInterval(heartbeat);
    // A handler's error may quote another system's text (an SMTP reply names the recipient).
    const message = errorText(err);
    if (deliveries >= settings.maxDeliver) {
      logger.error({ eventId: event.id, type: event.type, deliveries, err: message }, 'event still failing after the last delivery; moved to the dead-letter stream');
      return toDeadLetters(`failed ${deliveries} deliveries; last error: ${message}`);
    }
    logger.warn({ eventId: event.id, type: event.type, deliveries, err: message }, 'event handling failed; will be redelivered');
    retryLater();
    return 'retried';
  }
}

/** An error's message for a log line or a dead letter: any email address in it redacted. */
function errorText(err: unknown): string {
  return redactEmailAddresses(err instanceof Error ? err.message : String(err));
}

/**
 * processMessage inside the event's correlation (its log lines carry correlationId and orderId)
 * and in a CONSUMER span ("email OrderConfirmed") continuing the publisher's trace from the
 * message headers.
 */
function handleInContext(msg: JsMsg, parsed: ReturnType<typeof parseMessage>, ctx: ConsumerContext): Promise<Outcome> {
  const { parent, correlationId } = contextOfMessage(msg.headers);
  const event = parsed.event;
  return withCorrelation({ correlationId: correlationId ?? event?.correlationId, orderId: event?.orderId }, () => inSpan(`${ctx.spec.name} ${event?.type ?? 'message'}`, {
    kind: SpanKind.CONSUMER, parent,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': ctx.spec.name, ...(event ? { 'messaging.message.id': event.id } : {}) },
  }, async (span) => {
    const outcome = await processMessage(msg, parsed, ctx);
    span.setAttribute('outcome', outcome);
    return outcome;
  }));
}

export type BrokerState = { pending: number; ackPending: number; redelivered: number; dlq: number };

function consumerMetrics(registry: Registry, readBrokerState: () => Promise<BrokerState>, consumer: string) {
  const outcomes = new Counter({ name: 'consumer_messages_total', help: 'Messages handled by outcome', labelNames: ['consumer', 'outcome'], registers: [registry] });
  const duration = new Histogram({ name: 'consumer_handle_seconds', help: 'Time to handle one event', labelNames: ['consumer'], registers: [registry], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5] });
  // Read from the broker when Prometheus scrapes, once per scrape for all four gauges.
  const brokerState = oncePerScrape(readBrokerState);
  const brokerGauge = (name: string, help: string, pick: (s: BrokerState) => number, labelled = true) => new Gauge({
    name, help, labelNames: labelled ? ['consumer'] : [], registers: [registry],
    async collect() {
      const state = await brokerState().catch(() => undefined); // broker unreachable: keep the last value
      if (state) this.set(labelled ? { consumer } : {}, pick(state));
    },
  });
  brokerGauge('consumer_pending_messages', 'Messages in the stream not yet delivered to this durable consumer', (s) => s.pending);
  brokerGauge('consumer_ack_pending_messages', 'Messages delivered and not yet acknowledged', (s) => s.ackPending);
  brokerGauge('consumer_redelivered_messages', 'Messages delivered more than once and not yet acknowledged', (s) => s.redelivered);
  brokerGauge('dead_letter_messages', 'Messages in the dead-letter stream (all consumers)', (s) => s.dlq, false);
  return { outcomes, duration };
}

export interface RunningConsumer extends RunningProcess {
  readonly registry: Registry;
}

interface MaxDeliveriesAdvisory { stream: string; consumer: string; stream_seq: number; deliveries: number }

/**
 * Runs a durable pull consumer on the order events stream until stopped. `cleanup` closes what the
 * caller opened for the handler (its database, its mailer): after stop(), or when start-up fails.
 */
export async function startEventConsumer(config: Config, logger: Logger, spec: EventConsumerSpec, cleanup: () => Promise<void> = async () => undefined): Promise<RunningConsumer> {
  // What start-up has opened so far: closed again, last first, if a later step fails, so a
  // consumer that did not start leaves no connection, timer or port behind.
  const opened: (() => unknown)[] = [cleanup];
  try {
    return await startConsuming(config, logger, spec, cleanup, opened);
  } catch (err) {
    for (const close of opened.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    throw err;
  }
}

async function startConsuming(
  config: Config, logger: Logger, spec: EventConsumerSpec, cleanup: () => Promise<void>, opened: (() => unknown)[],
): Promise<RunningConsumer> {
  const settings = consumerSettings(config);
  const nc: NatsConnection = await connectNats(config, consumerUser(spec.name), { waitOnFirstConnect: true });
  opened.push(() => nc.close());
  const jsm = await natsManager(nc);
  const js: JetStreamClient = jetstream(nc);
  // The streams are the admin user's (ops nats setup); the durable is this consumer's own.
  await requireStream(jsm, config.EVENTS_STREAM);
  await requireStream(jsm, dlqStreamName(config));
  await ensureDurableConsumer(jsm, config.EVENTS_STREAM, spec.name, {
    filterSubjects: [...[...spec.handles].map((type) => eventSubject(config.EVENTS_SUBJECT_PREFIX, type)), replaySubject(config, spec.name, '*')],
    maxDeliver: settings.maxDeliver,
    ackWaitMs: settings.ackWaitMs,
    maxAckPending: Math.max(1_000, settings.concurrency * 4),
  });

  const registry = createProcessRegistry(spec.name);
  const readBrokerState = oncePerScrape(async (): Promise<BrokerState> => {
    const [info, dlq] = await Promise.all([jsm.consumers.info(config.EVENTS_STREAM, spec.name), jsm.streams.info(dlqStreamName(config))]);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, dlq: dlq.state.messages };
  });
  const metrics = consumerMetrics(registry, readBrokerState, spec.name);
  let reporting: Promise<void> = Promise.resolve();
  const reportBacklog = () => {
    if (!spec.reportBacklog) return;
    reporting = readBrokerState().then((state) => spec.reportBacklog!(state))
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not report the consumer backlog; the operator page shows the last report'));
  };
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(registry, config.METRICS_PORT, config.HTTP_HOST);
  if (metricsServer) {
    opened.push(() => metricsServer.stop());
    logger.info({ url: metricsServer.url }, `${spec.name} consumer metrics`);
  }

  const ctx: ConsumerContext = {
    spec, settings, logger,
    deadLetter: (msg, reason) => sendToDeadLetters(js, config, {
      consumer: spec.name, reason, stream: msg.info.stream, streamSeq: msg.seq, subject: msg.subject, deliveries: msg.info.deliveryCount, data: msg.data,
    }),
  };

  // Backstop: the broker gave up on a message without our handler seeing its last delivery.
  const advisories = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${config.EVENTS_STREAM}.${spec.name}`);
  opened.push(() => advisories.unsubscribe());
  const advisoryLoop = (async () => {
    for await (const m of advisories) {
      try {
        const advisory = m.json<MaxDeliveriesAdvisory>();
        const original = await jsm.streams.getMessage(config.EVENTS_STREAM, { seq: advisory.stream_seq });
        if (!original) continue;
        await sendToDeadLetters(js, config, {
          consumer: spec.name, reason: `reached ${advisory.deliveries} deliveries without an ack (the handler crashed or outlived the ack wait)`,
          stream: config.EVENTS_STREAM, streamSeq: advisory.stream_seq, subject: original.subject, deliveries: advisory.deliveries, data: original.data,
        });
        metrics.outcomes.inc({ consumer: spec.name, outcome: 'dead-lettered' });
        logger.error({ streamSeq: advisory.stream_seq }, 'message reached max deliveries; moved to the dead-letter stream');
      } catch (err) {
        logger.error({ err: errorText(err) }, 'could not dead-letter a message that reached max deliveries');
      }
    }
  })();

  const queue = new KeyedWorkQueue(settings.concurrency);
  const consumer = await js.consumers.get(config.EVENTS_STREAM, spec.name);
  const messages = await consumer.consume({ max_messages: Math.max(16, settings.concurrency * 2) });
  const loop = (async () => {
    for await (const msg of messages) {
      const parsed = parseMessage(msg);
      await queue.submit(parsed.key, async () => {
        const end = metrics.duration.startTimer({ consumer: spec.name });
        const outcome = await handleInContext(msg, parsed, ctx).catch((err: unknown) => {
          logger.error({ err: errorText(err), stack: err instanceof Error && err.stack ? redactEmailAddresses(err.stack) : undefined }, 'unexpected consumer error; message will be redelivered');
          msg.nak(redeliveryDelayMs(msg.info.deliveryCount, settings.retryBaseMs, settings.retryMaxMs));
          return 'retried' as const;
        });
        end();
        metrics.outcomes.inc({ consumer: spec.name, outcome });
      });
    }
  })();
  // Last: nothing after it can fail, so a failed start never leaves the timer running.
  reportBacklog();
  const backlogReports = setInterval(reportBacklog, BACKLOG_REPORT_MS);
  backlogReports.unref();
  logger.info({ durable: spec.name, stream: config.EVENTS_STREAM, concurrency: settings.concurrency }, 'event consumer running');
  return {
    registry,
    async stop() {
      clearInterval(backlogReports);
      await reporting; // before cleanup() closes what the report writes to
      await messages.close();
      await loop;
      await queue.idle();
      advisories.unsubscribe();
      await advisoryLoop;
      await nc.drain().catch(() => nc.close()); // drain fails while the broker is unreachable
      await metricsServer?.stop();
      await cleanup();
    },
  };
}
