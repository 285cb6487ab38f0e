import type { Pool } from 'pg';
import type { Db } from '../common/db';
import type { BrokerState } from './event-consumer';

/**
 * Each event consumer's backlog, as the broker last reported it to that consumer (its own
 * JetStream consumer info and the dead-letter stream's depth), kept in the `consumer_lag` table:
 * the operator page (GET /operator/dashboard) reads it there, so the API needs no NATS user. A
 * consumer that stopped reporting shows its last report with its age.
 */
export async function recordConsumerLag(pool: Pick<Pool, 'query'>, consumer: string, state: BrokerState): Promise<void> {
  await pool.query({
    name: 'consumer-lag-upsert',
    text: `INSERT INTO consumer_lag (consumer, pending, ack_pending, redelivered, dead_letters, observed_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (consumer) DO UPDATE SET pending = EXCLUDED.pending, ack_pending = EXCLUDED.ack_pending,
             redelivered = EXCLUDED.redelivered, dead_letters = EXCLUDED.dead_letters, observed_at = EXCLUDED.observed_at`,
    values: [consumer, state.pending, state.ackPending, state.redelivered, state.dlq, new Date()],
  });
}

export interface ConsumerLagView {
  consumer: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  /** Messages in the dead-letter stream (all consumers) when this consumer last looked. */
  deadLetters: number;
  observedAt: string;
  ageSeconds: number;
}

export async function readConsumerLag(db: Db, now = new Date()): Promise<ConsumerLagView[]> {
  const rows = await db.consumerLag.findMany({ orderBy: { consumer: 'asc' } });
  return rows.map((r) => ({
    consumer: r.consumer, pending: r.pending, ackPending: r.ackPending, redelivered: r.redelivered, deadLetters: r.deadLetters,
    observedAt: r.observedAt.toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - r.observedAt.getTime()) / 1000)),
  }));
}
