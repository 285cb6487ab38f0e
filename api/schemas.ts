import { z } from 'zod';

/**
 * Card tokens as the payment service accepts them (services/payment/validation.ts): anything else
 * it refuses, so an order with such a token is refused here, before stock is reserved for it.
 */
export const PAYMENT_TOKEN_PATTERN = /^tok_[A-Za-z0-9_]{1,64}$/;

/** Request bodies the API accepts. Unknown fields are rejected so typos do not pass silently. */
export const createOrderBody = z.strictObject({
  customerId: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'must be 1-128 characters of letters, digits and ._:@-'),
  customerEmail: z.string().email().max(254),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  items: z
    .array(z.strictObject({
      sku: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits and ._-'),
      quantity: z.number().int().min(1).max(1000),
    }))
    .min(1, 'an order needs at least one item')
    .max(100)
    .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku may appear only once; add up the quantities'),
  payment: z.strictObject({ token: z.string().regex(PAYMENT_TOKEN_PATTERN, 'must be a card token from the payment provider, like "tok_visa"') }),
});
export type CreateOrderBody = z.infer<typeof createOrderBody>;

export const orderIdParam = z.string().uuid('must be an order id (UUID)');

export const correlationIdHeader = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);
