import { z } from 'zod';
import type { Db } from '../common/db';
import type { OrderStatus } from '../common/order/status';
import { readConsumerLag } from '../workers/consumer-lag';

/**
 * What the operator page charts (GET /operator/dashboard), read from the analytics read model
 * (workers/analytics-consumer.ts) and the consumers' backlog reports (workers/consumer-lag.ts):
 * orders placed in the window by their current status, revenue of confirmed orders by day and
 * currency, cancel reasons, saga step latencies and consumer lag with the dead-letter depth.
 */
export const dashboardQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(7),
});

/**
 * Each saga step's latency is the gap between the statuses before and after it (the read model
 * keeps when each order reached each status). authorize-payment includes the customer's 3-D Secure
 * confirmation when one was asked for; commit-stock includes recording CONFIRMED.
 */
const LATENCIES: readonly { step: string; from: OrderStatus; to: OrderStatus }[] = [
  { step: 'reserve-stock', from: 'PENDING', to: 'STOCK_RESERVED' },
  { step: 'authorize-payment', from: 'STOCK_RESERVED', to: 'PAYMENT_AUTHORIZED' },
  { step: 'capture-payment', from: 'PAYMENT_AUTHORIZED', to: 'PAYMENT_CAPTURED' },
  { step: 'commit-stock', from: 'PAYMENT_CAPTURED', to: 'CONFIRMED' },
  { step: 'placed → confirmed', from: 'PENDING', to: 'CONFIRMED' },
  { step: 'placed → cancelled', from: 'PENDING', to: 'CANCELLED' },
];

const count = z.number().int().nonnegative();
export const operatorDashboard = z.strictObject({
  generatedAt: z.iso.datetime(),
  windowDays: z.number().int(),
  /** `hour` for windows up to 3 days, else `day`. */
  bucket: z.enum(['hour', 'day']),
  ordersByStatus: z.array(z.strictObject({ bucket: z.string(), status: z.string(), orders: count })),
  revenueByDay: z.array(z.strictObject({ day: z.string(), currency: z.string(), orders: count, revenueCents: count })),
  cancelReasons: z.array(z.strictObject({ reasonCode: z.string(), orders: count })),
  stepLatencies: z.array(z.strictObject({ step: z.string(), orders: count, p50Ms: z.number(), p95Ms: z.number(), maxMs: z.number() })),
  consumers: z.array(z.strictObject({
    consumer: z.string(), pending: count, ackPending: count, redelivered: count, deadLetters: count, observedAt: z.iso.datetime(), ageSeconds: count,
  })),
  /** Messages in the dead-letter stream, from the freshest consumer report; null before any report. */
  deadLetters: count.nullable(),
});
export type OperatorDashboard = z.infer<typeof operatorDashboard>;

export async function readDashboard(db: Db, days: number, now = new Date()): Promise<OperatorDashboard> {
  const since = new Date(now.getTime() - days * 86_400_000);
  const bucket = days <= 3 ? 'hour' : 'day';
  const format = bucket === 'hour' ? 'YYYY-MM-DD"T"HH24":00Z"' : 'YYYY-MM-DD';
  const [byStatus, revenue, reasons, latencies, consumers] = await Promise.all([
    db.$queryRaw<{ bucket: string; status: string; orders: number }[]>`
      SELECT to_char(date_trunc(${bucket}, placed_at AT TIME ZONE 'UTC'), ${format}) AS bucket, status, count(*)::int AS orders
      FROM analytics_orders WHERE placed_at >= ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
    db.$queryRaw<{ day: string; currency: string; orders: number; revenue_cents: bigint }[]>`
      SELECT to_char(last_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, currency, count(*)::int AS orders, sum(total_cents)::bigint AS revenue_cents
      FROM analytics_orders WHERE status = 'CONFIRMED' AND last_event_at >= ${since} GROUP BY 1, 2 ORDER BY 1, 2`,
    db.$queryRaw<{ reason_code: string; orders: number }[]>`
      SELECT coalesce(cancel_reason_code, 'UNKNOWN') AS reason_code, count(*)::int AS orders
      FROM analytics_orders WHERE status = 'CANCELLED' AND placed_at >= ${since} GROUP BY 1 ORDER BY 2 DESC, 1`,
    db.$queryRaw<{ step: string; orders: number; p50_ms: number; p95_ms: number; max_ms: number }[]>`
      WITH steps AS (SELECT * FROM unnest(${LATENCIES.map((l) => l.step)}::text[], ${LATENCIES.map((l) => l.from)}::text[], ${LATENCIES.map((l) => l.to)}::text[])
                     WITH ORDINALITY AS s(step, from_status, to_status, position)),
      gaps AS (
        SELECT s.step, s.position, (extract(epoch FROM b.at - a.at) * 1000)::float8 AS ms
        FROM steps s
        JOIN analytics_order_transitions a ON a.status = s.from_status
        JOIN analytics_order_transitions b ON b.order_id = a.order_id AND b.status = s.to_status
        JOIN analytics_orders o ON o.order_id = a.order_id
        WHERE o.placed_at >= ${since})
      SELECT step, count(*)::int AS orders,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50_ms,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::float8 AS p95_ms,
             max(ms)::float8 AS max_ms
      FROM gaps GROUP BY step, position ORDER BY position`,
    readConsumerLag(db, now),
  ]);
  const freshest = [...consumers].sort((a, b) => a.ageSeconds - b.ageSeconds)[0];
  return {
    generatedAt: now.toISOString(),
    windowDays: days,
    bucket,
    ordersByStatus: byStatus,
    revenueByDay: revenue.map((r) => ({ day: r.day, currency: r.currency.trim(), orders: r.orders, revenueCents: Number(r.revenue_cents) })),
    cancelReasons: reasons.map((r) => ({ reasonCode: r.reason_code, orders: r.orders })),
    stepLatencies: latencies.map((l) => ({ step: l.step, orders: l.orders, p50Ms: Math.round(l.p50_ms), p95Ms: Math.round(l.p95_ms), maxMs: Math.round(l.max_ms) })),
    consumers,
    deadLetters: freshest ? freshest.deadLetters : null,
  };
}
