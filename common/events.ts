import { z } from 'zod';

/**
 * The one definition of every domain event: written to the outbox by activities, published by
 * the relay, parsed by every consumer, and turned into the event catalog (docs/asyncapi.json,
 * `npm run events:catalog`). Change an event here and every side sees it.
 *
 * Evolution rules:
 * - Adding an optional field, or a field a reader can derive from the older version, is a new
 *   schema version of the same type: bump `currentVersion`, keep the old schema under `legacy`
 *   with an upcaster to the current shape. Upcasting happens only in `parseEvent` below, so
 *   consumers only ever see the current shape.
 * - Removing or changing the meaning of a field is a new event type, never a new version. One
 *   exception: a field no reader uses any more may be dropped in a new version, once every reader
 *   that used it has been changed and deployed (readers first, then the writer); the upcaster drops
 *   it from old events. That is how OrderConfirmed and OrderCancelled v2 lost customerEmail.
 * - Readers ignore fields they do not know (zod objects strip them) and treat an event type
 *   they do not know as "not mine", never as an error.
 *
 * Personal data: none in the current versions. The email consumer reads the customer's address
 * from the order store (orders.customer_email), so it is kept in one place, where
 * `ops customer erase` removes it; events in the stream and the dead letters stay free of it.
 * OrderConfirmed and OrderCancelled v1 (still readable) carried `customerEmail`. Fields holding
 * personal data are marked with `personalData()` and flagged `x-personal-data` in the catalog
 * (keep such fields out of events). No event carries card tokens or other secrets.
 */

/** Marks a field as personal data (flagged in the event catalog; keep such fields rare). */
function personalData<T extends z.ZodType>(schema: T, why: string): T {
  return schema.meta({ 'x-personal-data': true, description: `Personal data: ${why}` });
}

const currencyCode = z.string().length(3).describe('ISO 4217 currency code');
const cents = z.number().int().nonnegative();

const orderLine = z.object({
  sku: z.string(),
  quantity: z.number().int().positive(),
  unitPriceCents: cents,
});

/**
 * Why an order was cancelled. OPERATOR_CANCELLED: an operator cancelled the order's workflow (Temporal Web UI
 * or CLI). Stored as text (orders.cancel_reason_code, the analytics read model), so a new code needs no migration;
 * readers must be deployed before a writer that writes a new code (an unknown code fails the payload's schema).
 */
export const cancelReasonCodes = ['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'PAYMENT_CONFIRMATION_TIMEOUT', 'CUSTOMER_CANCELLED', 'OPERATOR_CANCELLED', 'PROCESSING_FAILED'] as const;
export const cancelReasonCode = z.enum(cancelReasonCodes);
export type CancelReasonCode = z.infer<typeof cancelReasonCode>;

const orderPlacedV1 = z.object({
  customerId: z.string(),
  currency: currencyCode,
  totalCents: cents,
  lines: z.array(orderLine),
});

const orderConfirmedV2 = z.object({
  customerId: z.string(),
  currency: currencyCode,
  totalCents: cents,
});
const orderConfirmedV1 = orderConfirmedV2.extend({
  customerEmail: personalData(z.string().email(), 'the email consumer sent the confirmation to it (v1 only)'),
});

const orderCancelledV2 = z.object({
  customerId: z.string(),
  currency: currencyCode,
  totalCents: cents,
  reasonCode: cancelReasonCode,
  reason: z.string(),
  refundedCents: z.number().int().positive().optional().describe('Set when money had been captured and was refunded'),
});
const orderCancelledV1 = orderCancelledV2.extend({
  customerEmail: personalData(z.string().email(), 'the email consumer sent the cancellation to it (v1 only)'),
});

/** v1 -> v2 of OrderConfirmed and OrderCancelled: the address is read from the order store instead. */
function withoutCustomerEmail<T extends { customerEmail: string }>({ customerEmail: _dropped, ...rest }: T): Omit<T, 'customerEmail'> {
  return rest;
}
const CUSTOMER_EMAIL_REMOVED = 'v2 drops customerEmail: the email consumer reads the address from the order store (orders.customer_email), so events carry no personal data';

/** Current payload schema of each event type (what writers write). */
export const eventPayloads = {
  OrderPlaced: orderPlacedV1.extend({
    /** v2: total quantity over all lines, so readers need not sum them. */
    itemCount: z.number().int().nonnegative().describe('Total quantity over all lines (since v2)'),
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
    amountCents: cents,
    currency: currencyCode,
  }),
  PaymentCaptured: z.object({
    paymentId: z.string(),
    amountCents: cents,
    currency: currencyCode,
  }),
  /** v2: without customerEmail (see "Personal data" above). */
  OrderConfirmed: orderConfirmedV2,
  /** v2: without customerEmail (see "Personal data" above). */
  OrderCancelled: orderCancelledV2,
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
  OrderPlaced: 2,
  StockReserved: 1,
  PaymentConfirmationRequested: 1,
  PaymentAuthorized: 1,
  PaymentCaptured: 1,
  OrderConfirmed: 2,
  OrderCancelled: 2,
  OrderCompensationFailed: 1,
};

interface LegacyVersion<T extends EventType> {
  schema: z.ZodType;
  /** Turns a payload valid under `schema` into the next version's shape. */
  upcast(payload: never): unknown;
  /** For the catalog: what changed in the next version. */
  change: string;
  _type?: T;
}

/** Older versions still readable, per type and version: the only place upcasting happens. */
export const legacyEventVersions: { [T in EventType]?: Record<number, LegacyVersion<T>> } = {
  OrderPlaced: {
    1: {
      schema: orderPlacedV1,
      upcast: (v1: z.infer<typeof orderPlacedV1>) => ({ ...v1, itemCount: v1.lines.reduce((n, l) => n + l.quantity, 0) }),
      change: 'v2 adds itemCount (the sum of the lines\' quantities; derived from lines when reading v1)',
    },
  },
  OrderConfirmed: {
    1: { schema: orderConfirmedV1, upcast: withoutCustomerEmail<z.infer<typeof orderConfirmedV1>>, change: CUSTOMER_EMAIL_REMOVED },
  },
  OrderCancelled: {
    1: { schema: orderCancelledV1, upcast: withoutCustomerEmail<z.infer<typeof orderCancelledV1>>, change: CUSTOMER_EMAIL_REMOVED },
  },
};

/** The envelope every event travels in, on the outbox row and on the wire. */
export const eventEnvelope = z.object({
  id: z.string().uuid().describe('Event id; also the Nats-Msg-Id and every consumer\'s inbox key'),
  type: z.string().min(1).describe('Event type, e.g. OrderPlaced; also the last subject token'),
  schemaVersion: z.number().int().positive().describe('Version of the payload schema for this type'),
  occurredAt: z.string().datetime({ offset: true }).describe('When the state change was committed by the writer (ISO 8601)'),
  orderId: z.string().uuid().describe('The aggregate: events of one order are published in the order they happened'),
  correlationId: z.string().min(1).describe('From the REST request (X-Correlation-Id) that started the order, carried through the workflow'),
  causationId: z.string().min(1).nullable().describe('What caused this event: the request for OrderPlaced, else the previous event of the order'),
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

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Brings a payload of any readable version to the current shape. Versions newer than ours are
 * read with the current schema (additive changes only, so the fields we know are there).
 */
function upcastPayload(type: EventType, version: number, payload: unknown): unknown {
  let value = payload;
  for (let v = version; v < eventSchemaVersions[type]; v += 1) {
    const legacy = legacyEventVersions[type]?.[v];
    if (!legacy) throw new MalformedEventError(`${type} v${v} is not readable: no legacy schema for it (current is v${eventSchemaVersions[type]})`);
    const parsed = legacy.schema.safeParse(value);
    if (!parsed.success) throw new MalformedEventError(`${type} v${v} payload invalid: ${issuesOf(parsed.error)}`);
    value = legacy.upcast(parsed.data as never);
  }
  return value;
}

/**
 * Parses bytes from the wire. Unknown fields are dropped; an older schema version is upcast to
 * the current one; an unknown event type is returned as such so a consumer can skip it; anything
 * else malformed throws MalformedEventError, which consumers treat as poison (never retried).
 */
export function parseEvent(data: Uint8Array | string): ParsedEvent {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new MalformedEventError('event is not valid JSON');
  }
  const envelope = eventEnvelope.safeParse(json);
  if (!envelope.success) throw new MalformedEventError(`event envelope invalid: ${issuesOf(envelope.error)}`);
  const { type: typeName, schemaVersion } = envelope.data;
  if (!Object.hasOwn(eventPayloads, typeName)) return { kind: 'unknown-type', envelope: envelope.data };
  const type = typeName as EventType;
  const payload = eventPayloads[type].safeParse(upcastPayload(type, schemaVersion, envelope.data.payload));
  if (!payload.success) throw new MalformedEventError(`${type} v${schemaVersion} payload invalid: ${issuesOf(payload.error)}`);
  return { kind: 'known', event: { ...envelope.data, type, schemaVersion: Math.max(schemaVersion, eventSchemaVersions[type]), payload: payload.data } as DomainEvent };
}

export function isEventOfType<T extends EventType>(event: DomainEvent, type: T): event is DomainEvent<T> {
  return event.type === type;
}

/** NATS subject an event is published on: `<prefix>.<type>`, so consumers can filter by type. */
export function eventSubject(prefix: string, type: string): string {
  return `${prefix}.${type}`;
}
