import { z } from 'zod';

/** Largest value a Postgres `integer` column holds; amounts above it are refused up front. */
const MAX_INT32 = 2_147_483_647;

const amountCents = z.number().int().min(1).max(MAX_INT32);

export const paymentIdSchema = z.uuid('must be a UUID');

export const authorizeBodySchema = z.strictObject({
  orderId: z.uuid('must be a UUID'),
  amountCents,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code in upper case, e.g. "EUR"'),
  token: z.string().regex(/^tok_[A-Za-z0-9_]{1,64}$/, 'must be a card token like "tok_visa"'),
});
export type AuthorizeBody = z.infer<typeof authorizeBodySchema>;

/** Capture and refund take an optional amount; left out, they use the full remaining amount. */
export const amountBodySchema = z.strictObject({ amountCents: amountCents.optional() });
export type AmountBody = z.infer<typeof amountBodySchema>;

export const ordersQuerySchema = z.object({ orderId: z.uuid('must be a UUID') });

export const orderIdSchema = z.uuid('must be a UUID');
/** The order-level undos take no options. */
export const emptyBodySchema = z.strictObject({});

export const threeDSecureBodySchema = z.strictObject({ outcome: z.enum(['complete', 'fail']) });
export type ThreeDSecureOutcome = z.infer<typeof threeDSecureBodySchema>['outcome'];
