-- AlterTable: the W3C trace context (traceparent, tracestate) of the span that wrote the event,
-- so the relay publishes it as a child of that span (common/tracing.ts). NULL for rows written
-- before, or with tracing off.
ALTER TABLE "outbox_events" ADD COLUMN "trace_context" JSONB;
