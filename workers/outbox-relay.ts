import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Client, Pool } from 'pg';
import type { Config } from '../common/config';
import { eventSubject, type EventEnvelope } from '../common/events';
import type { Logger } from '../common/logger';
import { connectNats, ensureEventsStream, natsManager } from '../common/nats';
import type { RunningProcess } from '../common/run-process';

/**
 * Outbox relay: publishes outbox rows to JetStream in commit-sequence order and marks them
 * published. The event id is the Nats-Msg-Id, so a row published twice (crash between the
 * broker's ack and the mark) is dropped by the broker's de-duplication window.
 *
 * One relay is active at a time (a Postgres advisory lock held on its own connection); others
 * wait as hot standbys. That keeps per-order order without coordinating between relays.
 */
const RELAY_LOCK_ID = 72707370;

interface OutboxRow {
  sequence: string;
  id: string;
  aggregate_id: string;
  type: string;
  schema_version: number;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  payload: unknown;
}

export function toEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at.toISOString(),
    orderId: row.aggregate_id,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    payload: row.payload,
  };
}

/** Publishes one batch; returns how many rows were published and marked. */
export async function relayBatch(pool: Pool, js: JetStreamClient, subjectPrefix: string, batchSize: number): Promise<number> {
  const { rows } = await pool.query<OutboxRow>(
    `SELECT sequence, id, aggregate_id, type, schema_version, occurred_at, correlation_id, causation_id, payload
       FROM outbox_events WHERE published_at IS NULL ORDER BY sequence LIMIT $1`, [batchSize]);
  if (rows.length === 0) return 0;
  // Publish the whole batch pipelined; the broker stores them in the order sent on this connection.
  const results = await Promise.allSettled(rows.map((row) =>
    js.publish(eventSubject(subjectPrefix, row.type), JSON.stringify(toEnvelope(row)), { msgID: row.id })));
  // Mark only the unbroken prefix that the broker acknowledged: the rest is retried, in order.
  const firstFailure = results.findIndex((r) => r.status === 'rejected');
  const published = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
  if (published.length > 0) {
    await pool.query('UPDATE outbox_events SET published_at = now() WHERE sequence = ANY($1::bigint[])', [published.map((r) => r.sequence)]);
  }
  if (firstFailure !== -1) throw (results[firstFailure] as PromiseRejectedResult).reason;
  return published.length;
}

export async function startOutboxRelay(config: Config, logger: Logger): Promise<RunningProcess> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 4 });
  const lockConnection = new Client({ connectionString: config.DATABASE_URL });
  await lockConnection.connect();
  const nc: NatsConnection = await connectNats(config.NATS_URL, 'outbox-relay');
  await ensureEventsStream(await natsManager(nc), config);
  const js = jetstream(nc);

  let stopping = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });

  const loop = (async () => {
    let leader = false;
    let failures = 0;
    while (!stopping) {
      try {
        if (!leader) {
          const { rows } = await lockConnection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_ID]);
          leader = rows[0]?.locked === true;
          if (!leader) { await sleep(2_000); continue; }
          logger.info('this relay is now the active one');
        }
        const n = await relayBatch(pool, js, config.EVENTS_SUBJECT_PREFIX, config.RELAY_BATCH_SIZE);
        failures = 0;
        if (n > 0) logger.debug({ published: n }, 'published outbox events');
        if (n < config.RELAY_BATCH_SIZE) await sleep(config.RELAY_POLL_INTERVAL_MS);
      } catch (err) {
        failures += 1;
        const backoff = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        logger.warn({ err: (err as Error).message, retryInMs: backoff }, 'relay batch failed; backing off');
        await sleep(backoff);
      }
    }
  })();

  logger.info({ stream: config.EVENTS_STREAM }, 'outbox relay running');
  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await nc.drain();
      await lockConnection.end();
      await pool.end();
    },
  };
}
