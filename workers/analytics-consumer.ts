import type { Config } from '../common/config';
import { createDb, dbTimeouts, type Db } from '../common/db';
import { isEventOfType, type DomainEvent, type EventType } from '../common/events';
import type { Logger } from '../common/logger';
import { orderStatuses, statusEvents, type OrderStatus } from '../common/order/status';
import type { Prisma } from '../generated/prisma/client.ts';
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
 * Applies one event to the analytics read model inside the caller's transaction: the inbox row
 * and the projection change commit together, so a redelivered event finds its inbox row and
 * changes nothing. The status only moves forward, so a late event cannot undo a newer one; an
 * event that arrives before its order's OrderPlaced fails (and is redelivered later).
 */
export async function applyAnalyticsEventInTx(tx: Prisma.TransactionClient, event: DomainEvent, consumer = ANALYTICS_CONSUMER): Promise<HandleResult> {
  const status = statusAfter[event.type];
  if (!status) return 'ignored';
  const inserted = await tx.$executeRaw`
    INSERT INTO processed_events (consumer, event_id) VALUES (${consumer}, ${event.id}::uuid) ON CONFLICT DO NOTHING`;
  if (inserted === 0) return 'already-processed';
  const at = new Date(event.occurredAt);
  if (isEventOfType(event, 'OrderPlaced')) {
    const p = event.payload;
    await tx.$executeRaw`
      INSERT INTO analytics_orders (order_id, status, currency, total_cents, item_count, placed_at, last_event_at)
      VALUES (${event.orderId}::uuid, ${status}, ${p.currency}, ${p.totalCents}, ${p.itemCount}, ${at}, ${at})
      ON CONFLICT (order_id) DO NOTHING`;
    await recordTransition(tx, event.orderId, status, at);
    return 'applied';
  }
  const reasonCode = isEventOfType(event, 'OrderCancelled') ? event.payload.reasonCode : null;
  const updated = await tx.$executeRaw`
    UPDATE analytics_orders SET
      status = CASE WHEN array_position(${STATUS_ORDER}::text[], ${status}) > array_position(${STATUS_ORDER}::text[], status) THEN ${status} ELSE status END,
      last_event_at = GREATEST(last_event_at, ${at}),
      cancel_reason_code = COALESCE(${reasonCode}, cancel_reason_code)
    WHERE order_id = ${event.orderId}::uuid`;
  if (updated === 0) throw new OrderNotProjectedYetError(`${event.type} ${event.id} arrived before OrderPlaced of order ${event.orderId} was applied; it will be retried`);
  await recordTransition(tx, event.orderId, status, at);
  return 'applied';
}

/** When the order reached `status` (the operator page's saga step latencies); the first event of a status counts. */
async function recordTransition(tx: Prisma.TransactionClient, orderId: string, status: OrderStatus, at: Date): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO analytics_order_transitions (order_id, status, at) VALUES (${orderId}::uuid, ${status}, ${at})
    ON CONFLICT (order_id, status) DO NOTHING`;
}

/** Live apply: one transaction, holding the analytics lock shared so a rebuild can exclude it. */
export async function applyAnalyticsEvent(db: Db, event: DomainEvent): Promise<HandleResult> {
  if (!statusAfter[event.type]) return 'ignored';
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${ANALYTICS_LOCK_ID}::bigint)`;
    return applyAnalyticsEventInTx(tx, event);
  });
}

export async function startAnalyticsConsumer(config: Config, logger: Logger): Promise<RunningConsumer> {
  const db = createDb(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX);
  return startEventConsumer(config, logger, {
    name: ANALYTICS_CONSUMER,
    handles: ANALYTICS_EVENT_TYPES,
    handle: (event) => applyAnalyticsEvent(db, event),
    reportBacklog: (state) => recordConsumerLag(db, ANALYTICS_CONSUMER, state),
  }, () => db.$disconnect());
}
