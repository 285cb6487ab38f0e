import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the order workflow keeps current, so operators can filter in the
 * Web UI / CLI, e.g. `OrderStatus = "AWAITING_PAYMENT_CONFIRMATION"`. Registered by
 * `npm run dev` (scripts/infra.ts) and docker-compose. No personal data goes here.
 * Imported by workflow code: keep this file free of I/O.
 */
export const OrderStatusAttribute = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const CustomerIdAttribute = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

export const orderSearchAttributes = [OrderStatusAttribute, CustomerIdAttribute] as const;
