import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';

/**
 * Retention of a consumer's inbox (processed_events: one row per event it applied, written with
 * the effect). A row has to outlive every way its event can come back: a redelivery from the
 * events stream (kept EVENTS_MAX_AGE), and a dead letter replayed into the stream on its last day
 * (kept DLQ_MAX_AGE, then EVENTS_MAX_AGE more; an event the broker gave up on may have been
 * applied all the same). INBOX_RETENTION is checked at start-up to be at least that
 * (common/config.ts); an event older than it that arrives all the same (a stream set to keep
 * events longer than EVENTS_MAX_AGE says) is dead-lettered, not applied (workers/event-consumer.ts).
 */

/** Rows deleted per statement: short locks and small WAL bursts, however large the backlog. */
const PRUNE_BATCH = 5_000;

export interface PruneSchedule {
  /** Wait after start before the first run (a process restarted often still prunes). */
  firstAfterMs: number;
  /** Wait after a run ends before the next one: runs never overlap. */
  everyMs: number;
  /** Pause between two batches of one run, so a large backlog is deleted at a steady pace. */
  pauseMs: number;
}
export const DEFAULT_PRUNE_SCHEDULE: PruneSchedule = { firstAfterMs: 60_000, everyMs: 10 * 60_000, pauseMs: 100 };

/**
 * Deletes this consumer's inbox rows older than `retentionMs` (by Postgres' clock), in batches
 * until none is left or `shouldStop()`; returns how many.
 */
export async function pruneInbox(db: Queryable, consumer: string, retentionMs: number, shouldStop: () => boolean = () => false, pauseMs = 0): Promise<number> {
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
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

/** Prunes the consumer's inbox on `schedule` until stopped; stop() waits for a run under way, and no run starts after it. */
export function startInboxPruning(db: Queryable, consumer: string, retentionMs: number, logger: Logger, schedule = DEFAULT_PRUNE_SCHEDULE): { stop(): Promise<void> } {
  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const next = (afterMs: number) => {
    timer = setTimeout(() => {
      running = pruneInbox(db, consumer, retentionMs, () => stopping, schedule.pauseMs).then(
        (n) => { if (n > 0) logger.info({ consumer, deleted: n }, 'inbox rows past INBOX_RETENTION deleted'); },
        (err: unknown) => logger.warn({ consumer, err: (err as Error).message }, 'inbox pruning failed; will try again'),
      ).finally(() => { if (!stopping) next(schedule.everyMs); });
    }, afterMs);
    timer.unref();
  };
  next(schedule.firstAfterMs);
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
