import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { sweepOrderVault } from '../common/order-vault';
import type { NatsConnection } from '@nats-io/nats-core';
import { Client, Pool } from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../common/config';
import { withCorrelation } from '../common/correlation-context';
import { eventMessageHeaders } from '../common/event-headers';
import { eventSubject } from '../common/events';
import type { Logger } from '../common/logger';
import { createProcessRegistry, oncePerScrape, startMetricsServer } from '../common/metrics-server';
import { connectNats, natsManager, requireStream } from '../common/nats';
import { dbTimeouts, pgTimeoutOptions } from '../common/pg';
import { orderIdOfRow, OUTBOX_ROW_SELECT, toEnvelope, type OutboxRow, type RowOfOrder } from '../common/outbox';
import type { RunningProcess } from '../common/run-process';
import { extractTraceContext, inSpan, SpanKind } from '../common/tracing';

/**
 * Outbox relay: publishes outbox rows to JetStream and marks them published.
 *
 * - Nothing is skipped: each batch reads every row not yet marked (`published_at IS NULL`), in
 *   sequence order, rather than "rows after the last sequence seen". A transaction that took a
 *   sequence number early and commits late is simply picked up by the next batch.
 * - Per-order order: a batch holds at most one event per order. The next event of an order is
 *   read only after the previous one was acknowledged and marked, so no retry, reconnect or
 *   second relay can put an order's later event into the stream before its earlier one. (An
 *   order's events are written one after another under its row lock, so they commit in sequence
 *   order.)
 * - Crash between the broker's ack and the mark: the event id is the Nats-Msg-Id, so JetStream
 *   drops the re-publish within EVENTS_DUPLICATE_WINDOW; after that window the consumers' inbox
 *   tables make the second copy harmless.
 * - One relay is active at a time: it holds a Postgres advisory lock on its own connection, and
 *   stops publishing as soon as that connection drops. Others wait as hot standbys. Two relays
 *   publishing at once (e.g. during a network partition) would still be safe, by the two rules
 *   above, only wasteful.
 * - It wakes on NOTIFY from the outbox insert trigger, polls every RELAY_POLL_INTERVAL_MS as a
 *   safety net, and backs off (up to 10 s) while NATS or Postgres is unreachable.
 * - Published rows older than OUTBOX_RETENTION are deleted every OUTBOX_CLEANUP_INTERVAL, and so are
 *   order vault rows older than ORDER_VAULT_RETENTION (common/order-vault.ts).
 */
const RELAY_LOCK_ID = 72707370;
export const OUTBOX_CHANNEL = 'outbox_events';

/** Keeps the first (lowest sequence) row of each order; later ones wait for the next batch. */
export function firstEventPerOrder<T extends RowOfOrder>(rows: readonly T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const orderId = orderIdOfRow(row);
    if (seen.has(orderId)) return false;
    seen.add(orderId);
    return true;
  });
}

export interface RelayBatchResult {
  /** Rows published and marked in this batch. */
  published: number;
  /** Rows read but left for the next batch (later events of an order in this batch). */
  deferred: number;
  /** Seconds from each published event's occurredAt to its broker ack. */
  lagsSeconds: number[];
}

export interface RelayHooks {
  /** Runs after the broker acknowledged the batch and before the rows are marked (tests crash here). */
  beforeMark?(eventIds: string[]): Promise<void>;
}

/**
 * Publishes one row in a PRODUCER span continuing the trace of the activity that wrote it (the
 * row's trace context), with the correlation id and the span's trace context as message headers.
 * Returns the seconds from the event's occurredAt to the broker's ack.
 */
async function publishRow(js: JetStreamClient, subjectPrefix: string, row: OutboxRow, logger?: Logger): Promise<number> {
  const event = toEnvelope(row);
  const subject = eventSubject(subjectPrefix, event.type);
  return withCorrelation({ correlationId: event.correlationId, orderId: event.orderId }, () => inSpan(`publish ${event.type}`, {
    kind: SpanKind.PRODUCER, parent: extractTraceContext(row.trace_context),
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': event.id },
  }, async () => {
    await js.publish(subject, JSON.stringify(event), { msgID: event.id, headers: eventMessageHeaders(event.correlationId) });
    const lagSeconds = (Date.now() - Date.parse(event.occurredAt)) / 1000;
    // Debug: the row's published_at and the relay's metrics (count, lag) record it; failures log at warn.
    logger?.debug({ eventId: event.id, type: event.type, lagMs: Math.round(lagSeconds * 1000) }, 'event published');
    return lagSeconds;
  }));
}

/** Publishes one batch pipelined (not one await per event) and marks what the broker acknowledged. */
export async function relayBatch(pool: Pool, js: JetStreamClient, subjectPrefix: string, batchSize: number, hooks: RelayHooks = {}, logger?: Logger): Promise<RelayBatchResult> {
  const { rows } = await pool.query<OutboxRow>({
    name: 'relay-unpublished-rows', text: `SELECT ${OUTBOX_ROW_SELECT} FROM outbox_events WHERE published_at IS NULL ORDER BY sequence LIMIT $1`, values: [batchSize],
  });
  if (rows.length === 0) return { published: 0, deferred: 0, lagsSeconds: [] };
  const batch = firstEventPerOrder(rows);
  const results = await Promise.allSettled(batch.map((row) => publishRow(js, subjectPrefix, row, logger)));
  // Each event in the batch belongs to a different order, so every acknowledged one can be
  // marked even if an earlier one failed; the failed ones are retried, their orders' later events
  // stay behind them.
  const acked = batch.filter((_, i) => results[i]!.status === 'fulfilled');
  if (acked.length > 0) {
    await hooks.beforeMark?.(acked.map((r) => r.id));
    await pool.query({
      name: 'relay-mark-published', text: 'UPDATE outbox_events SET published_at = now() WHERE sequence = ANY($1::bigint[]) AND published_at IS NULL', values: [acked.map((r) => r.sequence)],
    });
  }
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    throw new Error(`${batch.length - acked.length} of ${batch.length} publishes failed (${acked.length} marked): ${(failure.reason as Error).message}`);
  }
  const lagsSeconds = results.map((r) => (r as PromiseFulfilledResult<number>).value);
  return { published: acked.length, deferred: rows.length - batch.length, lagsSeconds };
}

/** Deletes published rows older than the retention, in chunks so no single statement runs long. */
export async function deletePublishedOutboxRows(pool: Pool, retentionMs: number, chunk = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM outbox_events WHERE sequence IN (
         SELECT sequence FROM outbox_events
          WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY published_at LIMIT $2)`, [retentionMs, chunk]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < chunk) return total;
  }
}

function relayMetrics(registry: Registry, pool: Pool) {
  // Read from Postgres on each scrape (one query for both gauges), so any relay, leader or
  // standby, reports the same truth.
  const outboxState = oncePerScrape(async () => {
    const { rows } = await pool.query<{ n: string; age: number | null }>(
      'SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(occurred_at))::float8 AS age FROM outbox_events WHERE published_at IS NULL');
    return { backlog: Number(rows[0]!.n), oldestAgeSeconds: Math.max(0, rows[0]!.age ?? 0) };
  });
  new Gauge({
    name: 'outbox_backlog_events', help: 'Outbox rows not yet published', registers: [registry],
    async collect() { this.set((await outboxState()).backlog); },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds', help: 'Age of the oldest unpublished outbox row; 0 when none', registers: [registry],
    async collect() { this.set((await outboxState()).oldestAgeSeconds); },
  });
  return {
    published: new Counter({ name: 'outbox_relay_published_total', help: 'Outbox events published and marked', registers: [registry] }),
    failures: new Counter({ name: 'outbox_relay_batch_failures_total', help: 'Relay batches that failed (NATS or Postgres unreachable); retried with backoff', registers: [registry] }),
    lag: new Histogram({
      name: 'outbox_relay_lag_seconds',
      help: 'From the event being written (occurredAt) to the broker acknowledging it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    leader: new Gauge({ name: 'outbox_relay_leader', help: '1 while this relay holds the lock and publishes, 0 while it stands by', registers: [registry] }),
    leadershipsTaken: new Counter({ name: 'outbox_relay_leadership_taken_total', help: 'Times this relay took the lock (more than 1: it lost it and took it again)', registers: [registry] }),
    deleted: new Counter({ name: 'outbox_rows_deleted_total', help: 'Published outbox rows deleted after the retention', registers: [registry] }),
  };
}

export interface OutboxRelay extends RunningProcess {
  readonly registry: Registry;
  isLeader(): boolean;
}

export async function startOutboxRelay(config: Config, logger: Logger, opts: { hooks?: RelayHooks; name?: string } = {}): Promise<OutboxRelay> {
  const registry = createProcessRegistry('outbox-relay');
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 3, ...pgTimeoutOptions(dbTimeouts(config)) });
  const metrics = relayMetrics(registry, pool);
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres connection failed'));
  const nc: NatsConnection = await connectNats(config, 'relay', { name: opts.name ?? 'outbox-relay', waitOnFirstConnect: true });
  const js = jetstream(nc);
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(registry, config.METRICS_PORT, config.HTTP_HOST);
  if (metricsServer) logger.info({ url: metricsServer.url }, 'relay metrics');

  let stopping = false;
  let wake: (() => void) | undefined;
  let pendingWake = false;
  let backingOff = false;
  /** Sleeps until the timeout or a wake-up; a backoff sleep ignores new-row notifications. */
  const sleep = (ms: number, opts: { backoff?: boolean } = {}) => new Promise<void>((resolve) => {
    if (stopping || (pendingWake && !opts.backoff)) { pendingWake = false; resolve(); return; }
    backingOff = opts.backoff ?? false;
    const timer = setTimeout(() => { wake = undefined; backingOff = false; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = undefined; backingOff = false; resolve(); };
  });
  /** New rows committed: publish now, unless backing off from a failure. */
  const wakeUp = () => { if (wake && !backingOff) wake(); else pendingWake = true; };
  /** Stopping, or NATS is back: end any sleep. */
  const wakeNow = () => { if (wake) wake(); else pendingWake = true; };

  /** The connection that holds the advisory lock and LISTENs; losing it means losing the lock. */
  let lockClient: Client | undefined;
  let leader = false;
  const dropLeadership = async (why: string): Promise<void> => {
    if (leader && !stopping) logger.warn({ why }, 'relay lost its lock; standing by');
    leader = false;
    metrics.leader.set(0);
    const client = lockClient;
    lockClient = undefined;
    await client?.end().catch(() => undefined);
  };
  const tryLead = async (): Promise<boolean> => {
    if (!lockClient) {
      const client = new Client({ connectionString: config.DATABASE_URL, ...pgTimeoutOptions(dbTimeouts(config)) });
      client.on('error', (err) => void dropLeadership(`lock connection failed: ${err.message}`));
      client.on('end', () => { if (lockClient === client) void dropLeadership('lock connection closed'); });
      client.on('notification', wakeUp);
      await client.connect();
      lockClient = client;
    }
    const { rows } = await lockClient.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_ID]);
    if (rows[0]?.locked !== true) return false;
    await lockClient.query(`LISTEN ${OUTBOX_CHANNEL}`);
    leader = true;
    metrics.leader.set(1);
    metrics.leadershipsTaken.inc();
    logger.info('this relay is now the active one');
    return true;
  };

  // While the broker is away, do not queue publishes in the client's buffer: back off, and start
  // again the moment the connection is back.
  let natsConnected = true;
  const statusLoop = (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') natsConnected = false;
      if (status.type === 'reconnect') { natsConnected = true; logger.info('NATS is back; catching up'); wakeNow(); }
    }
  })();

  const jsm = await natsManager(nc);
  let streamReady = false;
  const loop = (async () => {
    let failures = 0;
    while (!stopping) {
      try {
        if (!leader && !(await tryLead())) { await sleep(2_000); continue; }
        if (!natsConnected) throw new Error('NATS is unreachable (reconnecting)');
        if (!streamReady) {
          await requireStream(jsm, config.EVENTS_STREAM); // created by the admin user (ops nats setup), not by the relay
          streamReady = true;
        }
        const result = await relayBatch(pool, js, config.EVENTS_SUBJECT_PREFIX, config.RELAY_BATCH_SIZE, opts.hooks, logger);
        if (failures > 0) logger.info({ afterFailures: failures }, 'relay publishing again');
        failures = 0;
        metrics.published.inc(result.published);
        for (const lag of result.lagsSeconds) metrics.lag.observe(lag);
        if (result.published > 0) logger.debug({ published: result.published, deferred: result.deferred }, 'published outbox events');
        // Sleep only when this batch emptied the backlog; otherwise go straight on.
        if (result.deferred === 0 && result.published < config.RELAY_BATCH_SIZE) await sleep(config.RELAY_POLL_INTERVAL_MS);
      } catch (err) {
        failures += 1;
        streamReady = false; // the broker may have lost or never had the stream: check it again
        metrics.failures.inc();
        const backoff = Math.min(10_000, 100 * 2 ** Math.min(failures - 1, 7));
        logger.warn({ err: (err as Error).message, retryInMs: backoff, failures }, 'relay batch failed; backing off');
        await sleep(backoff, { backoff: true });
      }
    }
  })();

  const cleanup = setInterval(() => {
    if (!leader) return;
    deletePublishedOutboxRows(pool, config.OUTBOX_RETENTION).then(
      (n) => { metrics.deleted.inc(n); if (n > 0) logger.info({ deleted: n }, 'published outbox rows past retention deleted'); },
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'outbox cleanup failed; will try again'),
    );
    sweepOrderVault(pool, config.ORDER_VAULT_RETENTION).then(
      (n) => { if (n > 0) logger.info({ deleted: n }, 'order vault rows past retention deleted (orders that never started or never ended)'); },
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'order vault sweep failed; will try again'),
    );
  }, config.OUTBOX_CLEANUP_INTERVAL);
  cleanup.unref();

  logger.info({ stream: config.EVENTS_STREAM }, 'outbox relay running');
  return {
    registry,
    isLeader: () => leader,
    async stop() {
      stopping = true;
      clearInterval(cleanup);
      wakeNow();
      await loop;
      await dropLeadership('stopping');
      await nc.drain().catch(() => nc.close());
      await statusLoop;
      await pool.end();
      await metricsServer?.stop();
    },
  };
}
