import { performance } from 'node:perf_hooks';
import type { EventEnvelope } from '../../common/events';
import { ensureDeadLetterStream, ensureEventsStream } from '../../common/nats';
import { ANALYTICS_CONSUMER, startAnalyticsConsumer } from '../../workers/analytics-consumer';
import { insertOutboxRowsInOneTransaction, median } from './events';
import { startRelayProcess } from './relay-process';
import { countRows, expectStreamMessages, freshStream, progress, round, startTracked, stopTracked, vacuumOutbox, waitForCount, type Bench } from './rig';

/** Steps 1, 2 and 4 of the benchmark: raw publish, relay capacity, analytics consumer throughput. */

export interface Throughput { eventsPerSec: number; seconds: number }

// ---------------------------------------------------------------------------------------------
// 1. Raw publish

export interface RawResult { withoutMsgId: number; withMsgId: number; rounds: { withoutMsgId: number[]; withMsgId: number[] } }

/** Publishes every payload in windows of `window` concurrent publishes; returns seconds taken. */
async function publishAll(bench: Bench, prefix: string, events: readonly EventEnvelope[], payloads: readonly string[], withMsgId: boolean): Promise<number> {
  const { js, opts } = bench;
  const start = performance.now();
  for (let i = 0; i < events.length; i += opts.window) {
    const window: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + opts.window, events.length); j += 1) {
      const e = events[j]!;
      window.push(js.publish(`${prefix}.${e.type}`, payloads[j]!, withMsgId ? { msgID: e.id } : undefined));
    }
    await Promise.all(window);
  }
  return (performance.now() - start) / 1000;
}

export async function rawPublish(bench: Bench, events: readonly EventEnvelope[]): Promise<RawResult> {
  const payloads = events.map((e) => JSON.stringify(e));
  progress('1. raw publish: warming up');
  await freshStream(bench, 'BENCH_WARMUP', 'bench.warmup');
  const warmup = events.slice(0, Math.min(events.length, 2_000));
  await publishAll(bench, 'bench.warmup', warmup, payloads, true);

  const seconds = { withoutMsgId: [] as number[], withMsgId: [] as number[] };
  for (let r = 1; r <= bench.opts.rounds; r += 1) {
    // Alternate which variant goes first, so drift in machine load hits both alike.
    const order: (keyof typeof seconds)[] = r % 2 === 1 ? ['withoutMsgId', 'withMsgId'] : ['withMsgId', 'withoutMsgId'];
    for (const variant of order) {
      const withMsgId = variant === 'withMsgId';
      const stream = `BENCH_RAW${r}_${withMsgId ? 'MSGID' : 'NOID'}`;
      const prefix = `bench.raw${r}.${withMsgId ? 'msgid' : 'noid'}`;
      await freshStream(bench, stream, prefix);
      const s = await publishAll(bench, prefix, events, payloads, withMsgId);
      await expectStreamMessages(bench, stream, events.length);
      seconds[variant].push(s);
      progress(`1. raw publish round ${r} ${withMsgId ? 'with msgID   ' : 'without msgID'}: ${round(events.length / s)} events/s`);
    }
  }
  // The median, not the mean: one round slowed by other load on the machine should not move the figure.
  const rates = (list: number[]) => list.map((s) => events.length / s);
  return {
    withoutMsgId: median(rates(seconds.withoutMsgId)),
    withMsgId: median(rates(seconds.withMsgId)),
    rounds: { withoutMsgId: rates(seconds.withoutMsgId).map((r) => round(r)), withMsgId: rates(seconds.withMsgId).map((r) => round(r)) },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Relay capacity

export async function relayCapacity(bench: Bench, label: string, events: readonly EventEnvelope[], stream: string, prefix: string): Promise<Throughput> {
  const { pool } = bench;
  await vacuumOutbox(pool);
  const config = bench.config(stream, prefix, { RELAY_BATCH_SIZE: String(bench.opts.batchSize) });
  await ensureEventsStream(bench.jsm, config);
  // Started, and the leader, before the rows exist, so its boot time stays out of the figure.
  progress(`2. relay capacity (${label}): starting the relay process`);
  const relay = await startTracked(bench, startRelayProcess(config));
  let seconds: number;
  try {
    progress(`2. relay capacity (${label}): committing ${events.length} outbox rows in one transaction`);
    await insertOutboxRowsInOneTransaction(pool, events);
    const start = performance.now();
    await waitForCount(`relay (${label}) published`, events.length, async () => {
      relay.assertRunning();
      return events.length - await countRows(pool, 'SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL');
    });
    seconds = (performance.now() - start) / 1000;
  } finally {
    await stopTracked(bench, relay);
  }
  await expectStreamMessages(bench, stream, events.length);
  const eventsPerSec = events.length / seconds;
  progress(`2. relay capacity (${label}): ${round(eventsPerSec)} events/s (${round(seconds, 2)} s)`);
  return { eventsPerSec, seconds };
}

// ---------------------------------------------------------------------------------------------
// 4. Analytics consumer

export async function consumerThroughput(bench: Bench, stream: string, prefix: string, expected: number): Promise<Throughput> {
  const { pool, opts } = bench;
  const config = bench.config(stream, prefix, { CONSUMER_CONCURRENCY: String(opts.concurrency) });
  await ensureDeadLetterStream(bench.jsm, config); // consumers may not create streams (common/nats-users.ts)
  progress(`4. analytics consumer: ${expected} events, concurrency ${opts.concurrency}`);
  const start = performance.now();
  const consumer = await startTracked(bench, startAnalyticsConsumer(config, bench.logger));
  await waitForCount('analytics consumer processed', expected,
    () => countRows(pool, 'SELECT count(*) AS n FROM processed_events WHERE consumer = $1', [ANALYTICS_CONSUMER]), 50);
  const seconds = (performance.now() - start) / 1000;
  await stopTracked(bench, consumer);
  const projected = await countRows(pool, 'SELECT count(*) AS n FROM analytics_orders');
  if (projected !== expected) throw new Error(`analytics_orders holds ${projected} rows, expected ${expected}`);
  const eventsPerSec = expected / seconds;
  progress(`4. analytics consumer: ${round(eventsPerSec)} events/s (${round(seconds, 2)} s)`);
  return { eventsPerSec, seconds };
}
