import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';

/**
 * Retention of a consumer's inbox (processed_events: one row per event it applied, written with
 * the effect). A row only has to outlive every way its event can come back: a redelivery from the
 * events stream (kept EVENTS_MAX_AGE) and a replay from the dead letters (kept DLQ_MAX_AGE; an
 * event the broker gave up on may have been applied all the same). INBOX_RETENTION is checked at
 * start-up to be at least both (common/config.ts), so a pruned row's event can no longer arrive.
 */

/** Rows deleted per statement: short locks and WAL bursts, however large the backlog. */
const PRUNE_BATCH = 5_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/** Deletes this consumer's inbox rows older than `retentionMs` (by Postgres' clock), in batches; returns how many. */
export async function pruneInbox(db: Queryable, consumer: string, retentionMs: number, shouldStop: () => boolean = () => false): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query({
      name: 'inbox-prune',
      text: `DELETE FROM processed_events WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM processed_events
               WHERE consumer = $1 AND processed_at < now() - $2::bigint * interval '1 millisecond' LIMIT $3))`,
      values: [consumer, retentionMs, PRUNE_BATCH],
    });
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < PRUNE_BATCH || shouldStop()) return deleted;
  }
}

/** Prunes the consumer's inbox every PRUNE_EVERY_MS until stopped; stop() waits for a prune under way. */
export function startInboxPruning(db: Queryable, consumer: string, retentionMs: number, logger: Logger): { stop(): Promise<void> } {
  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  const prune = () => {
    running = pruneInbox(db, consumer, retentionMs, () => stopping).then(
      (n) => { if (n > 0) logger.info({ consumer, deleted: n }, 'inbox rows past INBOX_RETENTION deleted'); },
      (err: unknown) => logger.warn({ consumer, err: (err as Error).message }, 'inbox pruning failed; will try again'),
    );
  };
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
