import { z } from 'zod';
import { faultPaths } from '../shared/faults';
import {
  callerRefused, idempotencyKeyHeader, idempotentAnswers, ok, pathParam, problem, requestJson, serviceDocument, type OpenApiPaths,
} from '../shared/openapi';
import { orderIdSchema, productBodySchema, reservationBodySchema, skuSchema } from './validation';

const productSchema = z.object({
  sku: z.string(), name: z.string(), priceCents: z.number().int(), currency: z.string(),
  stock: z.number().int(), reserved: z.number().int(), available: z.number().int(),
});
const reservationSchema = z.object({
  orderId: z.uuid(),
  status: z.enum(['RESERVED', 'RELEASED', 'COMMITTED']),
  lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** In test mode a mutating call may be failed on purpose (PUT /test/faults). */
const injectedFault = (testMode: boolean) => (testMode ? { 503: problem('Injected fault (test mode, PUT /test/faults)') } : {});
const badBody = { 400: problem('Invalid body or path (each field named in "errors"), or malformed JSON'), 413: problem('Body larger than 100 kB') };

export function inventoryPaths(testMode: boolean): OpenApiPaths {
  const fault = injectedFault(testMode);
  const sku = pathParam('sku', skuSchema);
  const orderId = pathParam('orderId', orderIdSchema);
  const paths: OpenApiPaths = {
    '/products': {
      get: { summary: 'The catalog, by sku', responses: { 200: ok('Every product', z.object({ items: z.array(productSchema) })), ...callerRefused } },
    },
    '/products/{sku}': {
      get: { summary: 'One product', parameters: [sku], responses: { 200: ok('The product', productSchema), 400: problem('Not a sku'), ...callerRefused, 404: problem('No such product') } },
      put: {
        summary: 'Create or update a product',
        description: 'Sets name, price and stock on hand; without currency a new product is EUR and an existing one keeps its own. Reserved units are never touched: stock below them is refused.',
        parameters: [sku], requestBody: requestJson(productBodySchema),
        responses: { 200: ok('The product as stored', productSchema), ...badBody, ...callerRefused, 409: problem('stock-below-reserved: open reservations hold more units than the new stock'), ...fault },
      },
    },
    '/reservations': {
      post: {
        summary: 'Reserve stock for an order, all lines or none',
        description: 'Lines naming the same sku are added up. An order holds at most one reservation; one released before (or released before it was reserved) is never reserved again.',
        parameters: [idempotencyKeyHeader], requestBody: requestJson(reservationBodySchema),
        responses: {
          201: ok('Reserved', reservationSchema), ...badBody, ...callerRefused,
          409: problem('insufficient-stock (nothing reserved), reservation-exists, reservation-released'),
          422: problem('unknown-sku (nothing reserved), or the Idempotency-Key was first used with another request'), ...fault,
        },
      },
    },
    '/reservations/{orderId}': {
      get: { summary: 'An order\'s reservation', parameters: [orderId], responses: { 200: ok('The reservation', reservationSchema), 400: problem('Not a UUID'), ...callerRefused, 404: problem('No reservation for this order') } },
    },
    '/reservations/{orderId}/release': {
      post: {
        summary: 'Give the reserved units back (the saga\'s undo); twice is a no-op',
        description: 'Releasing an order without a reservation answers 404 and fences the order: a reserve arriving later is refused.',
        parameters: [orderId, idempotencyKeyHeader],
        responses: { 200: ok('Released', reservationSchema), ...idempotentAnswers, ...callerRefused, 404: problem('No reservation (the order is now fenced)'), 409: problem('reservation-committed'), ...fault },
      },
    },
    '/reservations/{orderId}/commit': {
      post: {
        summary: 'Take the reserved units out of stock for good; twice is a no-op',
        parameters: [orderId, idempotencyKeyHeader],
        responses: { 200: ok('Committed', reservationSchema), ...idempotentAnswers, ...callerRefused, 404: problem('No reservation'), 409: problem('reservation-released'), ...fault },
      },
    },
  };
  return testMode ? { ...paths, ...faultPaths() } : paths;
}

export function inventoryDocument(testMode: boolean) {
  return serviceDocument({
    title: 'Inventory service',
    description: 'Products, stock and per-order reservations (a stand-in for a real inventory system). Every call but health and this document needs a caller token. Errors are RFC 9457 problem details.',
    paths: inventoryPaths(testMode),
  });
}
