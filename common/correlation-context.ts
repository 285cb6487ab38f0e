import { AsyncLocalStorage } from 'node:async_hooks';
import { CORRELATION_ID_HEADER } from './correlation';

/**
 * The correlation id (and order) the current piece of work is about, carried through async calls.
 * Set where work about an order begins: an API request (api/app.ts), a peer service's request
 * (services/shared/service-app.ts), an activity (common/correlation-activity-interceptor.ts), a
 * relayed outbox row (workers/outbox-relay.ts), a consumed event (workers/event-consumer.ts).
 * Every log line written inside gets its fields (common/logger.ts), and every peer call its header
 * (common/clients/http-json.ts).
 */
export interface CorrelationContext {
  correlationId?: string;
  orderId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Runs `fn` with `context` as the current correlation, added to any the caller already has. */
export function withCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  // Every stored context holds defined fields only, so a log line can copy it as it is.
  const merged = { ...storage.getStore(), ...definedOnly(context) };
  return storage.run(merged, fn);
}

/** Adds the order to the current correlation (an API route learns it after the request began). */
export function bindOrderId(orderId: string): void {
  const current = storage.getStore();
  if (current) current.orderId = orderId;
}

export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

/** The fields every log line written inside a correlation gets: correlationId and orderId when known. */
export function correlationLogFields(): CorrelationContext {
  const current = storage.getStore();
  return current ? { ...current } : {};
}

/** The header for a peer call made inside a correlation (none outside one). */
export function correlationHeaders(): Record<string, string> {
  const id = storage.getStore()?.correlationId;
  return id ? { [CORRELATION_ID_HEADER]: id } : {};
}

function definedOnly({ correlationId, orderId }: CorrelationContext): CorrelationContext {
  const defined: CorrelationContext = {};
  if (correlationId !== undefined) defined.correlationId = correlationId;
  if (orderId !== undefined) defined.orderId = orderId;
  return defined;
}
