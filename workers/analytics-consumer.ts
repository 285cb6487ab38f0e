import type { Config } from '../common/config';
import { createDb, type Db } from '../common/db';
import type { DomainEvent, EventType } from '../common/events';
import type { Logger } from '../common/logger';
import type { OrderStatus } from '../common/order';
import type { RunningProcess } from '../common/run-process';
import { startEventConsumer, type HandleResult } from './event-consumer';

export const ANALYTICS_CONSUMER = 'analytics';

const statusAfter: Partial<Record<EventType, OrderStatus>> = {
  OrderPlaced: 'PENDING',
  StockReserved: 'STOCK_RESERVED',
  PaymentAuthorized: 'PAYMENT_AUTHORIZED',
  PaymentCaptured: 'PAYMENT_CAPTURED',
  OrderConfirmed: 'CONFIRMED',
  OrderCancelled: 'CANCELLED',
};

/**
 * Applies one event to the analytics read model. The inbox row and the projection change are
 * one transaction: a redelivered event finds its inbox row and changes nothing.
 */
export async function applyAnalyticsEvent(db: Db, event: DomainEvent): Promise<HandleResult> {
  const status = statusAfter[event.type];
  if (!status) return 'ignored';
  return db.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO processed_events (consumer, event_id) VALUES (${ANALYTICS_CONSUMER}, ${event.id}::uuid) ON CONFLICT DO NOTHING`;
    if (inserted === 0) return 'already-processed';
    const at = new Date(event.occurredAt);
    const p = event.payload as { currency?: string; totalCents?: number; reasonCode?: string };
    if (p.currency !== undefined && p.totalCents !== undefined) {
      await tx.$executeRaw`
        INSERT INTO analytics_orders (order_id, status, currency, total_cents, placed_at, last_event_at, cancel_reason_code)
        VALUES (${event.orderId}::uuid, ${status}, ${p.currency}, ${p.totalCents}, ${at}, ${at}, ${p.reasonCode ?? null})
        ON CONFLICT (order_id) DO UPDATE SET
          status = EXCLUDED.status, last_event_at = EXCLUDED.last_event_at,
          cancel_reason_code = COALESCE(EXCLUDED.cancel_reason_code, analytics_orders.cancel_reason_code),
          placed_at = LEAST(analytics_orders.placed_at, EXCLUDED.placed_at)
        WHERE analytics_orders.last_event_at <= EXCLUDED.last_event_at`;
    } else {
      await tx.$executeRaw`
        UPDATE analytics_orders SET status = ${status}, last_event_at = ${at}
        WHERE order_id = ${event.orderId}::uuid AND last_event_at <= ${at}`;
    }
    return 'applied';
  });
}

export async function startAnalyticsConsumer(config: Config, logger: Logger): Promise<RunningProcess> {
  const db = createDb(config.DATABASE_URL);
  return startEventConsumer(config, logger, {
    name: ANALYTICS_CONSUMER,
    handles: new Set(Object.keys(statusAfter)),
    handle: (event) => applyAnalyticsEvent(db, event),
  }, () => db.$disconnect());
}
