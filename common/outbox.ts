import { Prisma } from '../generated/prisma/client.ts';
import { eventPayloads, eventSchemaVersions, type EventEnvelope, type EventType } from './events';
import { injectTraceContext, type TraceCarrier } from './tracing';

/**
 * The outbox row ↔ event envelope mapping, and the only place that knows both sides' names.
 * An event is written to `outbox_events` in the transaction that changed the order (by the order
 * activities with plain SQL, `outboxEventInsert`; by the benchmark with `outboxInsert`) and read back by the relay, which
 * publishes it as the envelope of common/events.ts. On the way the envelope's `orderId` is the
 * row's aggregate: Prisma field `aggregateId`, column `aggregate_id`.
 */

/** An event about to be written: the envelope without its schema version and write time. */
export interface NewOutboxEvent {
  id: string;
  orderId: string;
  type: EventType;
  payload: unknown;
  correlationId: string;
  causationId: string | null;
}

/**
 * The row for a Prisma `outboxEvent.create`. Validates on write: an event
 * that does not match its schema must never reach the outbox. The active trace context (the
 * activity's span) goes with it, for the relay to continue the trace.
 */
export function outboxEventCreateInput(e: NewOutboxEvent, occurredAt = new Date()): Prisma.OutboxEventCreateInput {
  const payload = eventPayloads[e.type].parse(e.payload);
  const traceContext = injectTraceContext();
  return {
    id: e.id,
    aggregateId: e.orderId,
    type: e.type,
    schemaVersion: eventSchemaVersions[e.type],
    occurredAt,
    correlationId: e.correlationId,
    causationId: e.causationId,
    payload: payload as Prisma.InputJsonValue,
    traceContext: Object.keys(traceContext).length > 0 ? traceContext : Prisma.DbNull,
  };
}

/** An outbox row as plain SQL reads it (`SELECT ${OUTBOX_ROW_SELECT} FROM outbox_events ...`). */
export interface OutboxRow {
  /** Write order (bigserial); what the relay sorts and marks by. */
  sequence: string;
  id: string;
  aggregate_id: string;
  type: string;
  schema_version: number;
  occurred_at: Date;
  correlation_id: string;
  causation_id: string | null;
  payload: unknown;
  /** Where the writer's trace continues (absent with tracing off, and in rows from before it). */
  trace_context: TraceCarrier | null;
}

/** The columns an envelope is written to, in the order of `outboxInsert`'s values. */
const ENVELOPE_COLUMNS = ['id', 'aggregate_id', 'type', 'schema_version', 'occurred_at', 'correlation_id', 'causation_id', 'payload'] as const satisfies readonly (keyof OutboxRow)[];

/** The columns of an `OutboxRow` besides `sequence`: the envelope's, then the trace context. */
const ROW_COLUMNS = [...ENVELOPE_COLUMNS, 'trace_context'] as const satisfies readonly (keyof OutboxRow)[];

/** Select list giving an `OutboxRow`. */
export const OUTBOX_ROW_SELECT = ['sequence', ...ROW_COLUMNS].join(', ');

/** Any row with its order (the relay keeps one event per order in a batch). */
export type RowOfOrder = Pick<OutboxRow, 'aggregate_id'>;

export function orderIdOfRow(row: RowOfOrder): string {
  return row.aggregate_id;
}

/** The envelope the relay publishes for a row. */
export function toEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at.toISOString(),
    orderId: orderIdOfRow(row),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    payload: row.payload,
  };
}

/**
 * The same row as `outboxEventCreateInput` (validated payload, trace context) as one parameterized
 * INSERT, for writers on node-postgres: the order activities, in the transaction that changed the order.
 */
export function outboxEventInsert(e: NewOutboxEvent, occurredAt = new Date()): { text: string; values: unknown[] } {
  const row = outboxEventCreateInput(e, occurredAt);
  // JSON as text: node-postgres would write a JS array as a Postgres array, not as JSON.
  const values = [row.id, row.aggregateId, row.type, row.schemaVersion, row.occurredAt, row.correlationId, row.causationId ?? null,
    JSON.stringify(row.payload), row.traceContext === Prisma.DbNull ? null : JSON.stringify(row.traceContext)];
  return { text: `INSERT INTO outbox_events (${ROW_COLUMNS.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values };
}

function insertValues(e: EventEnvelope): unknown[] {
  return [e.id, e.orderId, e.type, e.schemaVersion, e.occurredAt, e.correlationId, e.causationId, JSON.stringify(e.payload), null];
}

/**
 * One multi-row INSERT of whole envelopes (unpublished rows, in the order given, without a trace
 * context), for writers without Prisma. The payload is written as given, not validated.
 */
export function outboxInsert(events: readonly EventEnvelope[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = events.map((e) => {
    const row = insertValues(e);
    const placeholders = row.map((_, i) => `$${values.length + i + 1}`);
    values.push(...row);
    return `(${placeholders.join(', ')})`;
  });
  return { text: `INSERT INTO outbox_events (${ROW_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values };
}
