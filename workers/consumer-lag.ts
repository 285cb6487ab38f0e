import type { Db } from '../common/db';
import type { BrokerState } from './event-consumer';

/**
 * Each event consumer's backlog, as the broker last reported it to that consumer (its own
 * JetStream consumer info and the dead-letter stream's depth), kept in the `consumer_lag` table:
 * the operator page (GET /operator/dashboard) reads it there, so the API needs no NATS user. A
 * consumer that stopped reporting shows its last report with its age.
 */
export async function recordConsumerLag(db: Db, consumer: string, state: BrokerState): Promise<void> {
  const row = { pending: state.pending, ackPending: state.ackPending, redelivered: state.redelivered, deadLetters: state.dlq, observedAt: new Date() };
  await db.consumerLag.upsert({ where: { consumer }, create: { consumer, ...row }, update: row });
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
