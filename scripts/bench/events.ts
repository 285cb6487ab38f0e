import { randomInt, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { outboxInsert } from '../../common/outbox';
import { withTransaction } from '../../common/pg';
import { eventSchemaVersions, parseEvent, type EventEnvelope, type EventPayload, type EventType } from '../../common/events';

/** Realistic events for the benchmark (scripts/bench/main.ts), valid under the schemas in common/events.ts. */

function envelope<T extends EventType>(type: T, orderId: string, correlationId: string, causationId: string, payload: EventPayload<T>): EventEnvelope {
  return {
    id: randomUUID(),
    type,
    schemaVersion: eventSchemaVersions[type],
    occurredAt: new Date().toISOString(),
    orderId,
    correlationId,
    causationId,
    payload,
  };
}

function orderPlacedPayload(): EventPayload<'OrderPlaced'> {
  const lines = Array.from({ length: randomInt(1, 5) }, () => ({
    sku: `SKU-${randomInt(10_000, 100_000)}`,
    quantity: randomInt(1, 4),
    unitPriceCents: randomInt(199, 20_000),
  }));
  return {
    customerId: `cus_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    currency: 'EUR',
    totalCents: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0),
    lines,
    itemCount: lines.reduce((sum, l) => sum + l.quantity, 0),
  };
}

/** One OrderPlaced event of a new order, as the order activity writes it. */
export function orderPlaced(): EventEnvelope {
  const correlationId = randomUUID();
  return envelope('OrderPlaced', randomUUID(), correlationId, correlationId, orderPlacedPayload());
}

/** The five events of an order that goes through to confirmation, each caused by the previous one. */
export function orderLifecycle(): EventEnvelope[] {
  const placed = orderPlaced();
  const p = placed.payload as EventPayload<'OrderPlaced'>;
  const paymentId = `pay_${randomUUID()}`;
  const events = [placed];
  const next = <T extends EventType>(type: T, payload: EventPayload<T>) => {
    events.push(envelope(type, placed.orderId, placed.correlationId, events.at(-1)!.id, payload));
  };
  next('StockReserved', { lines: p.lines.map(({ sku, quantity }) => ({ sku, quantity })) });
  next('PaymentAuthorized', { paymentId, amountCents: p.totalCents, currency: p.currency });
  next('PaymentCaptured', { paymentId, amountCents: p.totalCents, currency: p.currency });
  next('OrderConfirmed', { customerId: p.customerId, currency: p.currency, totalCents: p.totalCents });
  return events;
}

/** Throws if the generator drifted from the schemas (the benchmark must publish real events). */
export function assertValid(events: readonly EventEnvelope[]): void {
  for (const e of events) {
    const parsed = parseEvent(JSON.stringify(e));
    if (parsed.kind !== 'known') throw new Error(`benchmark event of unknown type ${e.type}`);
  }
}

/**
 * Inserts outbox rows (unpublished) with multi-row INSERTs, in sequence order of the array, all in
 * one transaction: they become visible to the relay together when this returns.
 */
export async function insertOutboxRowsInOneTransaction(pool: Pool, events: readonly EventEnvelope[], rowsPerStatement = 1_000): Promise<void> {
  await withTransaction(pool, async (tx) => {
    for (let start = 0; start < events.length; start += rowsPerStatement) await tx.query(outboxInsert(events.slice(start, start + rowsPerStatement)));
  });
}

/** One outbox row in its own transaction, the way the order activities write events. */
export async function insertOutboxRowInTransaction(pool: Pool, e: EventEnvelope): Promise<void> {
  await withTransaction(pool, (tx) => tx.query(outboxInsert([e])));
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Median of a non-empty array (mean of the middle two for an even length). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
