import { z } from 'zod';

/**
 * The one definition of every domain event: written to the outbox by activities, published by
 * the relay, parsed by every consumer. Change an event here and every side sees it.
 *
 * Personal data: only the customer-facing events the email consumer needs (OrderConfirmed,
 * OrderCancelled) carry `customerEmail`. No event carries card tokens.
 */

const orderLine = z.object({
  sku: z.string(),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});

export const cancelReasonCodes = ['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'PAYMENT_CONFIRMATION_TIMEOUT', 'CUSTOMER_CANCELLED', 'PROCESSING_FAILED'] as const;
export const cancelReasonCode = z.enum(cancelReasonCodes);
export type CancelReasonCode = z.infer<typeof cancelReasonCode>;

export const eventPayloads = {
  OrderPlaced: z.object({
    customerId: z.string(),
    currency: z.string().length(3),
    totalCents: z.number().int().nonnegative(),
    lines: z.array(orderLine),
  }),
  StockReserved: z.object({
    lines: z.array(orderLine.pick({ sku: true, quantity: true })),
  }),
  PaymentConfirmationRequested: z.object({
    paymentId: z.string(),
    deadline: z.string().datetime({ offset: true }),
  }),
  PaymentAuthorized: z.object({
    paymentId: z.string(),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),
  PaymentCaptured: z.object({
    paymentId: z.string(),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),
  OrderConfirmed: z.object({
    customerId: z.string(),
    customerEmail: z.string().email(),
    currency: z.string().length(3),
    totalCents: z.number().int().nonnegative(),
  }),
  OrderCancelled: z.object({
    customerId: z.string(),
    customerEmail: z.string().email(),
    currency: z.string().length(3),
    totalCents: z.number().int().nonnegative(),
    reasonCode: cancelReasonCode,
    reason: z.string(),
    /** Set when money had been captured and was refunded. */
    refundedCents: z.number().int().positive().optional(),
  }),
  OrderCompensationFailed: z.object({
    reasonCode: cancelReasonCode,
    reason: z.string(),
    pendingUndos: z.array(z.string()),
  }),
} as const;

export type EventType = keyof typeof eventPayloads;
export const eventTypes = Object.keys(eventPayloads) as EventType[];
export type EventPayload<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

/** Current schema version written for each event type. */
export const eventSchemaVersions: Record<EventType, number> = {
  OrderPlaced: 1,
  StockReserved: 1,
  PaymentConfirmationRequested: 1,
  PaymentAuthorized: 1,
  PaymentCaptured: 1,
  OrderConfirmed: 1,
  OrderCancelled: 1,
  OrderCompensationFailed: 1,
};

/** The envelope every event travels in, on the outbox row and on the wire. */
export const eventEnvelope = z.object({
  id: z.string().uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.string().datetime({ offset: true }),
  orderId: z.string().uuid(),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  payload: z.unknown(),
});
export type EventEnvelope = z.infer<typeof eventEnvelope>;

export type DomainEvent<T extends EventType = EventType> = Omit<EventEnvelope, 'type' | 'payload'> & {
  type: T;
  payload: EventPayload<T>;
};

export type ParsedEvent =
  | { kind: 'known'; event: DomainEvent }
  | { kind: 'unknown-type'; envelope: EventEnvelope };

export class MalformedEventError extends Error {}

/**
 * Parses bytes from the wire. Unknown fields are dropped (zod objects strip them); an unknown
 * event type is returned as such so a consumer can skip it; anything else malformed throws
 * MalformedEventError, which consumers treat as poison (never retried).
 */
export function parseEvent(data: Uint8Array | string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new MalformedEventError('event is not valid JSON');
  }
  const envelope = eventEnvelope.safeParse(json);
  if (!envelope.success) throw new MalformedEventError(`event envelope invalid: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const type = envelope.data.type;
  if (!(type in eventPayloads)) return { kind: 'unknown-type', envelope: envelope.data };
  const payload = eventPayloads[type as EventType].safeParse(envelope.data.payload);
  if (!payload.success) throw new MalformedEventError(`${type} payload invalid: ${payload.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { kind: 'known', event: { ...envelope.data, type: type as EventType, payload: payload.data } as DomainEvent };
}

export function isEventOfType<T extends EventType>(event: DomainEvent, type: T): event is DomainEvent<T> {
  return event.type === type;
}

/** NATS subject an event is published on: `<prefix>.<type>`, so consumers can filter by type. */
export function eventSubject(prefix: string, type: string): string {
  return `${prefix}.${type}`;
}
