import { z } from 'zod';

/**
 * Card tokens as the payment service accepts them (services/payment/validation.ts): anything else
 * it refuses, so an order with such a token is refused here, before stock is reserved for it.
 */
export const PAYMENT_TOKEN_PATTERN = /^tok_[A-Za-z0-9_]{1,64}$/;

/** Most items of one sku in one order. */
export const MAX_QUANTITY = 1000;

/**
 * Largest order total, in minor units (cents): 2^31 - 1, what the money columns (orders.total_cents,
 * order_lines, analytics, the payment service's amounts) hold. A larger total would fail to be
 * recorded and leave the order hanging, so it is refused up front (422). The columns stay integer:
 * a bigint total would reach JavaScript as a BigInt (not JSON) through Prisma and would still be
 * refused by the payment service, and no checkout sells more than 21 million in one order.
 */
export const MAX_ORDER_TOTAL_CENTS = 2_147_483_647;

/** What a customer id is; the list's customerId filter takes the same (another could match no order). */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Request bodies the API accepts. Unknown fields are rejected so typos do not pass silently. Each
 * sku may appear once per order: JSON Schema cannot say that of one field of the items, so it is
 * checked after this schema (duplicateSkus, answered 422 duplicate-sku) and stated in the document.
 */
export const createOrderBody = z.strictObject({
  customerId: z.string().regex(CUSTOMER_ID_PATTERN, 'must be 1-128 characters of letters, digits and ._:@-'),
  customerEmail: z.string().email().max(254),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  items: z
    .array(z.strictObject({
      // Not only dots: a SKU goes into inventory's URL path, where "." and ".." are dot segments (another route).
      sku: z.string().max(64).regex(/^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'must be 1-64 characters of letters, digits and ._-, not only dots'),
      quantity: z.number().int().min(1).max(MAX_QUANTITY),
    }))
    .min(1, 'an order needs at least one item')
    .max(100),
  payment: z.strictObject({ token: z.string().regex(PAYMENT_TOKEN_PATTERN, 'must be a card token from the payment provider, like "tok_visa"') }),
});
export type CreateOrderBody = z.infer<typeof createOrderBody>;

/** The SKUs listed more than once in an order's items. */
export function duplicateSkus(items: readonly { sku: string }[]): string[] {
  const seen = new Set<string>();
  return [...new Set(items.filter((i) => seen.size === seen.add(i.sku).size).map((i) => i.sku))];
}

/** Most orders on one page of GET /orders. */
export const MAX_LIST_LIMIT = 100;

export const orderIdParam = z.string().uuid('must be an order id (UUID)');
