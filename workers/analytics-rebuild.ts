import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { Pool, PoolClient } from 'pg';
import type { Config } from '../common/config';
import { withTransaction } from '../common/pg';
import { parseEvent } from '../common/events';
import { allEventsSubject, connectNats, natsManager } from '../common/nats';
import { ANALYTICS_CONSUMER, ANALYTICS_LOCK_ID, applyAnalyticsEventInTx } from './analytics-consumer';

export interface RebuildProgress {
  done: number;
  total: number;
  applied: number;
  skipped: number;
}

export interface RebuildResult extends RebuildProgress {
  ordersBefore: number;
  ordersAfter: number;
  lastStreamSeq: number;
  /** Events that could not be applied (malformed, or out of place), with why. */
  skippedEvents: { streamSeq: number; reason: string }[];
}

/**
 * Rebuilds the analytics read model from the events stream, from scratch, in ONE transaction:
 * the old model stays visible to readers until the new one commits, and the live analytics
 * consumer waits (it takes the same advisory lock shared) instead of writing in between.
 *
 * The inbox rows are rebuilt with the model: every event applied here is recorded, so when the
 * live consumer resumes it skips what the rebuild applied and applies what came after. The
 * stream must still hold every event since the first order (EVENTS_MAX_AGE) for the result to be
 * complete.
 */
export async function rebuildAnalytics(config: Config, pool: Pool, onProgress: (p: RebuildProgress) => void = () => undefined, limits = REBUILD_LIMITS): Promise<RebuildResult> {
  // As the admin user: reading the whole stream takes a consumer of its own, which no consumer user may create.
  const nc = await connectNats(config, 'admin', { name: 'analytics-rebuild' });
  try {
    const jsm = await natsManager(nc);
    const js = jetstream(nc);
    return await withTransaction(pool, async (tx) => {
      await limitTransaction(tx, limits);
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [ANALYTICS_LOCK_ID]);
      const ordersBefore = await orderCount(tx);
      await tx.query('DELETE FROM analytics_orders'); // and their transitions (ON DELETE CASCADE)
      await tx.query('DELETE FROM processed_events WHERE consumer = $1', [ANALYTICS_CONSUMER]);

      // Read up to the stream's end as of now; later events are the live consumer's.
      const lastStreamSeq = (await jsm.streams.info(config.EVENTS_STREAM)).state.last_seq;
      const progress: RebuildProgress = { done: 0, total: 0, applied: 0, skipped: 0 };
      const skippedEvents: RebuildResult['skippedEvents'] = [];
      if (lastStreamSeq > 0) {
        const consumer = await js.consumers.get(config.EVENTS_STREAM, { filter_subjects: [allEventsSubject(config)], deliver_policy: DeliverPolicy.All });
        progress.total = (await consumer.info()).num_pending;
        const messages = await consumer.consume({ max_messages: 1_000 });
        for await (const msg of messages) {
          progress.done += 1;
          await tx.query('SAVEPOINT rebuild_event');
          try {
            const parsed = parseEvent(msg.data);
            if (parsed.kind === 'known' && (await applyAnalyticsEventInTx(tx, parsed.event, 'held')) === 'applied') progress.applied += 1;
            await tx.query('RELEASE SAVEPOINT rebuild_event');
          } catch (err) {
            await tx.query('ROLLBACK TO SAVEPOINT rebuild_event');
            progress.skipped += 1;
            skippedEvents.push({ streamSeq: msg.seq, reason: (err as Error).message });
          }
          if (progress.done % 200 === 0) onProgress({ ...progress });
          if (msg.info.pending === 0 || msg.seq >= lastStreamSeq) break;
        }
        await messages.close();
      }
      onProgress({ ...progress });
      const ordersAfter = await orderCount(tx);
      return { ...progress, ordersBefore, ordersAfter, lastStreamSeq, skippedEvents };
    });
  } finally {
    await nc.drain();
  }
}

/** How long a rebuild may hold the analytics lock, which the live consumer waits for: in all, and waiting on the stream. */
export const REBUILD_LIMITS = { totalMs: 6 * 3_600_000, idleMs: 5 * 60_000 };

/**
 * Bounds a transaction from inside: idle (between statements: the rebuild waiting on the stream)
 * at most `idleMs`, and in all at most `totalMs` (Postgres 17 and later: transaction_timeout;
 * before, the idle and statement limits only). Past either, Postgres ends the session and the
 * transaction rolls back: the old read model stays, and the live consumer goes on.
 */
export async function limitTransaction(tx: PoolClient, { totalMs, idleMs }: typeof REBUILD_LIMITS): Promise<void> {
  await tx.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true),
                         CASE WHEN current_setting('server_version_num')::int >= 170000 THEN set_config('transaction_timeout', $2, true) END`,
  [String(idleMs), String(totalMs)]);
}

async function orderCount(tx: PoolClient): Promise<number> {
  const { rows } = await tx.query<{ count: number }>('SELECT count(*)::int AS count FROM analytics_orders');
  return rows[0]!.count;
}
