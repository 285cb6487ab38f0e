import { ANALYTICS_CONSUMER, ANALYTICS_EVENT_TYPES } from './analytics-consumer';
import { CUSTOMER_FACING, EMAIL_CONSUMER } from './email-consumer';
import type { EventConsumerSpec } from './event-consumer';

/**
 * Which consumer takes which event, taken from the consumers themselves: each entry is the
 * durable name and the `handles` set that consumer starts with, so the event catalog cannot
 * drift from the real subscriptions. A new consumer adds its entry here.
 */
export const consumerSubscriptions: readonly Pick<EventConsumerSpec, 'name' | 'handles'>[] = [
  { name: ANALYTICS_CONSUMER, handles: ANALYTICS_EVENT_TYPES },
  { name: EMAIL_CONSUMER, handles: CUSTOMER_FACING },
];

/** Names of the consumers that read an event type, sorted. */
export function consumersOf(type: string): string[] {
  return consumerSubscriptions.filter((c) => c.handles.has(type)).map((c) => c.name).sort();
}
