import type { Pool, PoolClient } from 'pg';
import type { Config } from '../common/config';
import { createPool, dbTimeouts, withTransaction } from '../common/pg';
import { isEventOfType, type DomainEvent, type EventType } from '../common/events';
import type { Logger } from '../common/logger';
import { orderStatuses, statusEvents, type OrderStatus } from '../common/order/status';
import { startInboxPruning } from './consumer-inbox';
import { recordConsumerLag } from './consumer-lag';
import { startEventConsumer, type HandleResult, type RunningConsumer } from './event-consumer';

export const ANALYTICS_CONSUMER = 'analytics';

/** Held shared by every live apply and exclusively by a rebuild (`npm run ops -- analytics rebuild`). */
export const ANALYTICS_LOCK_ID = 72707371;

/**
 * The statuses the read model shows, in the order an order moves through them (a status never
 * goes back). It does not show the wait for a payment confirmation, nor COMPENSATION_FAILED: an
 * order there keeps the last status shown.
 */
const notProjected: ReadonlySet<OrderStatus> = new Set(['AWAITING_PAYMENT_CONFIRMATION', 'COMPENSATION_FAILED']);
const STATUS_ORDER: readonly OrderStatus[] = orderStatuses.filter((s) => !notProjected.has(s));

/** The status each projected event records the order reaching. */
const statusAfter: Partial<Record<EventType, OrderStatus>> = Object.fromEntries(STATUS_ORDER.map((s) => [statusEvents[s], s]));
export const ANALYTICS_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(statusAfter));

export class OrderNotProjectedYetError extends Error {}

/**
 * The inbox insert; for a live apply with the analytics lock taken shared in the same statement
 * (one round trip less), before any other statement of its transaction.
 *
 * Why that is as safe as a SELECT of the lock before it, under READ COMMITTED with a rebuild
 * running: this statement's snapshot may be older than the rebuild it waited for, but ON CONFLICT
 * DO NOTHING does not decide by the snapshot: it checks the unique index for committed rows (and
 * waits for uncommitted ones), so an inbox row the rebuild wrote is seen and the event is
 * 'already-processed'. Every later statement of the transaction takes its snapshot after the lock
 * was granted and sees the rebuild's read model. The projection statements must stay separate:
 * an UPDATE on that older snapshot would miss the rows the rebuild inserted.
 */
const inboxInsert = {
  withSharedLock: {
    name: 'analytics-lock-shared-inbox-insert',
    text: `WITH analytics_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($3::bigint))
           INSERT INTO processed_events (consumer, event_id) SELECT $1, $2::uuid FROM analytics_lock ON CONFLICT DO NOTHING`,
  },
  lockHeld: {
    name: 'analytics-inbox-insert',
    text: 'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING',
  },
};

/**
 * Applies one event to the analytics read model inside the caller's transaction: the inbox row
 * and the projection change commit together, so a redelivered event finds its inbox row and
 * changes nothing. The status only moves forward, so a late event cannot undo a newer one; an
 * event that arrives before its order's OrderPlaced fails (and is redelivered later). The first
 * event of each status records when the order reached it (analytics_order_transitions: the
 * operator page's saga step latencies).
 *
 * `lock`: 'take-shared' for a live apply (its first statement takes the analytics lock shared),
 * 'held' for a rebuild, which holds it exclusively.
 */
export async function applyAnalyticsEventInTx(tx: PoolClient, event: DomainEvent, lock: 'take-shared' | 'held'): Promise<HandleResult> {
  const status = statusAfter[event.type];
  if (!status) return 'ignored';
  const inbox = await tx.query(lock === 'take-shared'
    ? { ...inboxInsert.withSharedLock, values: [ANALYTICS_CONSUMER, event.id, ANALYTICS_LOCK_ID] }
    : { ...inboxInsert.lockHeld, values: [ANALYTICS_CONSUMER, event.id] });
  if (inbox.rowCount === 0) return 'already-processed';
  const at = new Date(event.occurredAt);
  if (isEventOfType(event, 'OrderPlaced')) {
    const p = event.payload;
    // One statement: the transition's foreign key is checked at its end, after the order's insert.
    await tx.query({
      name: 'analytics-order-placed',
      text: `WITH placed AS (
               INSERT INTO analytics_orders (order_id, status, currency, total_cents, item_count, placed_at, last_event_at)
               VALUES ($1::uuid, $2, $3, $4, $5, $6, $6)
               ON CONFLICT (order_id) DO NOTHING)
             INSERT INTO analytics_order_transitions (order_id, status, at) VALUES ($1::uuid, $2, $6)
             ON CONFLICT (order_id, status) DO NOTHING`,
      values: [event.orderId, status, p.currency, p.totalCents, p.itemCount, at],
    });
    return 'applied';
  }
  const reasonCode = isEventOfType(event, 'OrderCancelled') ? event.payload.reasonCode : null;
  // One statement: the transition is recorded only for an order the update found.
  const { rows } = await tx.query<{ updated: number }>({
    name: 'analytics-order-moved',
    text: `WITH moved AS (
             UPDATE analytics_orders SET
               status = CASE WHEN array_position($5::text[], $2) > array_position($5::text[], status) THEN $2 ELSE status END,
               last_event_at = GREATEST(last_event_at, $3),
               cancel_reason_code = COALESCE($4, cancel_reason_code)
             WHERE order_id = $1::uuid
             RETURNING order_id),
           transition AS (
             INSERT INTO analytics_order_transitions (order_id, status, at) SELECT order_id, $2, $3 FROM moved
             ON CONFLICT (order_id, status) DO NOTHING)
           SELECT count(*)::int AS updated FROM moved`,
    values: [event.orderId, status, at, reasonCode, STATUS_ORDER],
  });
  if ((rows[0]?.updated ?? 0) === 0) throw new OrderNotProjectedYetError(`${event.type} ${event.id} arrived before OrderPlaced of order ${event.orderId} was applied; it will be retried`);
  return 'applied';
}

/** Live apply: one transaction, holding the analytics lock shared so a rebuild can exclude it. */
export async function applyAnalyticsEvent(pool: Pool, event: DomainEvent): Promise<HandleResult> {
  if (!statusAfter[event.type]) return 'ignored';
  return withTransaction(pool, (tx) => applyAnalyticsEventInTx(tx, event, 'take-shared'));
}

export async function startAnalyticsConsumer(config: Config, logger: Logger): Promise<RunningConsumer> {
  const pool = createPool(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX,
    (err) => logger.error({ err: err.message }, 'idle analytics database connection failed; it will be replaced'));
  const pruning = startInboxPruning(pool, ANALYTICS_CONSUMER, config.INBOX_RETENTION, logger);
  return startEventConsumer(config, logger, {
    name: ANALYTICS_CONSUMER,
    handles: ANALYTICS_EVENT_TYPES,
    handle: (event) => applyAnalyticsEvent(pool, event),
    reportBacklog: (state) => recordConsumerLag(pool, ANALYTICS_CONSUMER, state),
  }, async () => {
    await pruning.stop();
    await pool.end();
  });
}
