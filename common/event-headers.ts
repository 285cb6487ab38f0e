import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import type { Context } from '@opentelemetry/api';
import { CORRELATION_ID_HEADER, isCorrelationId, TRACEPARENT_HEADER } from './correlation';
import { extractTraceContext, injectTraceContext } from './tracing';

/**
 * The headers of every event message the relay publishes: the order's correlation id
 * (X-Correlation-Id, as in the envelope) and the publishing span's W3C trace context
 * (traceparent, tracestate), which a consumer continues (contextOfMessage).
 */
export function eventMessageHeaders(correlationId: string): MsgHdrs {
  const h = natsHeaders();
  h.set(CORRELATION_ID_HEADER, correlationId);
  for (const [name, value] of Object.entries(injectTraceContext())) h.set(name, value);
  return h;
}

/** A message's trace context (the parent of the consumer's span) and correlation id, from its headers. */
export function contextOfMessage(headers: MsgHdrs | undefined): { parent: Context; correlationId?: string } {
  const carrier: Record<string, string> = {};
  for (const name of [TRACEPARENT_HEADER, 'tracestate']) {
    const value = headers?.get(name);
    if (value) carrier[name] = value;
  }
  const correlationId = headers?.get(CORRELATION_ID_HEADER);
  return { parent: extractTraceContext(carrier), ...(isCorrelationId(correlationId) ? { correlationId } : {}) };
}
