import { z } from 'zod';

/** Largest value a Postgres `integer` column holds; quantities and cents above it are refused up front. */
const MAX_INT32 = 2_147_483_647;

/** Not only dots: a SKU is a URL path segment, where "." and ".." would name another route. */
export const skuSchema = z.string().max(64).regex(/^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-", not only dots');

export const orderIdSchema = z.uuid('must be a UUID');

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code in upper case, e.g. "EUR"');

/** A product as PUT: `currency` is that of `priceCents`; left out, a new product is EUR and an existing one keeps its own. */
export const productBodySchema = z.strictObject({
  // Stated as a pattern (not trimmed), so the OpenAPI document says exactly what is accepted;
  // Postgres text cannot hold NUL, and no name needs a control character.
  name: z.string().max(200).regex(/^[^ \x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^ \x00-\x1f\x7f])?$/,
    'must be 1-200 characters without control characters, not starting or ending with a space'),
  priceCents: z.number().int().min(0).max(MAX_INT32),
  currency: currencySchema.optional(),
  stock: z.number().int().min(0).max(MAX_INT32),
});
export type ProductBody = z.infer<typeof productBodySchema>;

export const reservationBodySchema = z.strictObject({
  orderId: orderIdSchema,
  lines: z
    .array(z.strictObject({ sku: skuSchema, quantity: z.number().int().min(1).max(MAX_INT32) }))
    .min(1)
    .max(100),
});
export type ReservationBody = z.infer<typeof reservationBodySchema>;
