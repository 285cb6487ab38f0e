import { z } from 'zod';
import { orderStatuses } from '../common/order/status';
import { cancelReasonCodes } from '../common/events';
import { createOrderBody } from './schemas';

/**
 * The API's OpenAPI 3.1 document, served at GET /openapi.json. Request bodies come from the same
 * zod schemas the routes validate with, so the document cannot drift from the validation.
 */
const problemSchema = z.object({
  type: z.string().url(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const orderAccepted = z.object({
  orderId: z.string().uuid(),
  status: z.literal('PENDING'),
  totalCents: z.number().int(),
  currency: z.string(),
});

const cancelAccepted = z.object({
  orderId: z.string().uuid(),
  cancelRequested: z.literal(true),
  status: z.enum(orderStatuses).optional(),
  reasonCode: z.enum(cancelReasonCodes).optional(),
  refunded: z.boolean().optional(),
});

const orderView = z.object({
  orderId: z.string().uuid(),
  status: z.enum(orderStatuses),
  clientId: z.string(),
  customerId: z.string(),
  currency: z.string(),
  totalCents: z.number().int(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() })),
  reasonCode: z.enum(cancelReasonCodes).optional(),
  reason: z.string().optional(),
  terminal: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const summary = z.object({
  totalOrders: z.number().int(),
  byStatus: z.array(z.object({ status: z.string(), currency: z.string(), orders: z.number().int(), amountCents: z.number().int() })),
  revenue: z.array(z.object({ currency: z.string(), revenueCents: z.number().int() })),
});

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
/** Every route with an API key (api/auth.ts) can answer these; POSTs are also rate limited. */
const unauthenticated = { 401: problem('No API key, or an unknown or revoked one (WWW-Authenticate: Bearer)') };
const forbidden = { 403: problem('The API key lacks the scope this needs') };
const rateLimited = {
  429: { ...problem('Too many POSTs from this client in the window; see Retry-After'), headers: { 'Retry-After': { schema: { type: 'integer' } }, RateLimit: { schema: { type: 'string' } }, 'RateLimit-Policy': { schema: { type: 'string' } } } },
};

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'Order orchestrator API', version: '0.1.0', description: 'Start and read orders driven by a Temporal saga. Errors are RFC 9457 problem details.' },
    components: {
      schemas: { Problem: z.toJSONSchema(problemSchema) },
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `npm run ops -- apikey create`; scope shop (own orders) or operator (all orders, analytics, metrics)' } },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/orders': {
        post: {
          summary: 'Place an order',
          description: 'Prices and their currency come from the inventory catalog; the order must be in the currency of its products. '
            + 'With an Idempotency-Key the order id is derived from (authenticated client, key), so a retry of a request whose answer was lost finds the same order. '
            + 'The order is processed asynchronously; poll the Location.',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' }, description: 'Makes retries safe: the same key and body answer the same order' },
            { name: 'X-Correlation-Id', in: 'header', required: false, schema: { type: 'string' }, description: 'Carried into every event of this order' },
          ],
          requestBody: { required: true, content: json(createOrderBody) },
          responses: {
            202: { description: 'Accepted; the saga runs in the background', headers: { Location: { schema: { type: 'string' } } }, content: json(orderAccepted) },
            400: problem('Invalid request (including a payment token the payment provider would refuse)'),
            ...unauthenticated,
            409: problem('A request with this Idempotency-Key is still in progress; retry'),
            ...rateLimited,
            422: problem('Unknown SKU, products priced in another currency, a total above 2147483647 minor units or of 0, or an Idempotency-Key reused with another body'),
            503: problem('catalog-unavailable: nothing was done; order-outcome-unknown: the start was not confirmed in time and may have happened (orderId given): retry with the same Idempotency-Key'),
          },
        },
      },
      '/orders/{orderId}': {
        get: {
          summary: 'Read an order',
          parameters: [{ name: 'orderId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { 200: { description: 'The order', content: json(orderView) }, 400: problem('Not an order id'), ...unauthenticated, 404: problem('No such order, or another client\'s') },
        },
      },
      '/orders/{orderId}/cancel': {
        post: {
          summary: 'Cancel an order',
          description: 'Answers once the order has accepted the cancel; undoing its steps (release stock, void or refund) runs on. Poll the Location until the status is CANCELLED.',
          parameters: [{ name: 'orderId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            202: { description: 'Cancel accepted (or the order was already cancelled by the customer)', headers: { Location: { schema: { type: 'string' } } }, content: json(cancelAccepted) },
            ...unauthenticated,
            403: problem('An operator\'s key on another client\'s order: operators cancel the workflow instead'),
            404: problem('No such order, or another client\'s'),
            ...rateLimited,
            409: problem('The order is being confirmed or has ended and can no longer be cancelled'),
            503: problem('cancel-outcome-unknown: the workflow engine did not confirm the cancel in time; retry with the same Idempotency-Key'),
          },
        },
      },
      '/analytics/summary': { get: { summary: 'Orders and amounts by status (operators)', responses: { 200: { description: 'Summary', content: json(summary) }, ...unauthenticated, ...forbidden } } },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'The process is up' } } } },
      '/readyz': { get: { summary: 'Readiness (database and Temporal)', security: [], responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (operators)', responses: { 200: { description: 'Metrics in Prometheus text format' }, ...unauthenticated, ...forbidden } } },
    },
  };
}
