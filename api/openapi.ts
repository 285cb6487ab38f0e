import { z } from 'zod';
import { orderStatuses } from '../common/order/status';
import { analyticsSummary, cancelAccepted, liveness, orderAccepted, orderList, orderView, readiness, webhookReceived } from './openapi-bodies';
import { problemResponse, problemSchemas, type ProblemKind } from './openapi-problems';
import { operatorPagePaths } from './openapi-operator-page';
import { payloadsBody } from './routes/codec';
import { DURATION_PATTERN, MAX_STUCK_LIMIT, STUCK_LIMIT_PATTERN } from './routes/operator-inspection';
import { orderInspection, stuckOrders } from './operator-inspection-bodies';
import { webhookBody } from './routes/payment-webhooks';
import { CLIENT_ID_PATTERN } from './api-keys';
import { createOrderBody, CUSTOMER_ID_PATTERN, MAX_LIST_LIMIT, orderIdParam } from './schemas';

/**
 * The API's OpenAPI 3.1 document, served at GET /openapi.json: every route of api/app.ts (a test
 * holds the two equal), every parameter and rule the code checks, every answer with its exact
 * problem fields. Request bodies come from the zod schemas the routes validate with.
 *
 * Status codes: 400 = the request breaks this document's schemas; 422 = it meets them but breaks
 * a rule they cannot state (an unknown or repeated SKU, the catalog's currency, the total, a
 * cursor we did not hand out, an Idempotency-Key reused for another request).
 */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
export const json = (schema: z.ZodType) => ({ 'application/json': { schema: jsonSchema(schema) } });

export const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });
const CORRELATION = { 'X-Correlation-Id': { $ref: '#/components/headers/XCorrelationId' } };
const withCorrelation = (response: Record<string, unknown>) => ({ ...response, headers: { ...CORRELATION, ...(response.headers as object | undefined) } });
export const ok = (description: string, content: Record<string, unknown>, headers: Record<string, unknown> = {}) => withCorrelation({ description, headers, content });
export const problems = (description: string, kinds: ProblemKind[] = [], headers: Record<string, unknown> = {}) =>
  withCorrelation(problemResponse(description, kinds, headers as Record<string, Record<string, unknown>>));

const RETRY_AFTER = { 'Retry-After': header('Seconds to wait before retrying', { type: 'string', pattern: '^[0-9]+$' }) };
const RATE_LIMIT_HEADERS = {
  RateLimit: header('IETF draft-8 RateLimit: what is left of this client\'s POST quota'),
  'RateLimit-Policy': header('IETF draft-8 RateLimit-Policy: the quota and its window'),
};

/** What every operation that needs an API key may also answer. */
export const authResponses = {
  401: problems('No API key, or an unknown, malformed or revoked one', ['Unauthenticated', 'InvalidApiKey'], { 'WWW-Authenticate': header('Bearer challenge (RFC 6750)') }),
  403: problems('The API key lacks the scope this operation needs', ['Forbidden']),
};
/** The sign-in and sign-out forms' posts from another site's page (api/same-origin.ts: login CSRF). */
export const CROSS_SITE_REFUSED = 'Posted from another site\'s page: Sec-Fetch-Site not same-origin, or an Origin of another host';

/** What every operation may answer when express refuses the request as sent or something fails unexpectedly. */
export const commonResponses = {
  415: problems('A content type, charset or encoding the API does not read', ['BadRequest']),
  500: problems('Unexpected failure; no internal detail is given', ['Internal']),
};
const postResponses = {
  413: problems('The body is larger than the API accepts (100 kB; 64 kB for the webhook)', ['PayloadTooLarge']),
  429: problems('This client has sent too many POST requests; retry after Retry-After seconds', ['RateLimited'], { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS }),
};

const idempotencyKey = {
  name: 'Idempotency-Key', in: 'header', required: false,
  description: 'Makes retries safe (IETF draft-ietf-httpapi-idempotency-key-header): the same key and request answer the first answer again (with Idempotent-Replayed: true); the same key with another request is 422; while the first is in flight, 409. Kept per client for 24 h.',
  schema: { type: 'string', pattern: '^[!-~]{1,255}$' },
};
const correlationIdHeader = {
  name: 'X-Correlation-Id', in: 'header', required: false,
  description: 'Your id for this request (1-128 of letters, digits and ._:-), carried into every log line, peer call and event of the order it places (and its correlationId in GET /orders/{orderId}). Without a valid one, the trace id of a valid W3C traceparent header is used, else a new UUID. Answered in the X-Correlation-Id response header.',
  schema: { type: 'string' },
};
const orderIdPath = { name: 'orderId', in: 'path', required: true, schema: jsonSchema(orderIdParam) };
const replayedHeader = { 'Idempotent-Replayed': header('"true" when this is the kept answer of an earlier request with the same Idempotency-Key', { type: 'string', enum: ['true'] }) };
const locationHeader = { Location: header('The order: poll it with GET', { type: 'string', pattern: '^/orders/[0-9a-f-]{36}$' }) };

export const open = { security: [] as unknown[] };

/** `namespace`: the Temporal namespace the codec server serves (the only X-Namespace it accepts). */
export function openApiDocument(namespace = 'default') {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Order orchestrator API', version: '0.1.0',
      description: 'Start and read orders driven by a Temporal saga. Errors are RFC 9457 problem details: 400 when a request breaks this document\'s schemas, 422 when it meets them but breaks a rule they cannot state.',
    },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: `npm run ops -- apikey create --client <id>`' },
        paymentSignature: { type: 'apiKey', in: 'header', name: 'Payment-Signature', description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" with PAYMENT_WEBHOOK_SECRET>; at most 5 minutes old' },
      },
      headers: { XCorrelationId: { description: 'The request\'s correlation id (yours if valid, else a new one); also in the access log line of this request', schema: { type: 'string' }, required: true } },
      schemas: problemSchemas(),
    },
    paths: {
      '/orders': {
        post: {
          summary: 'Place an order',
          description: 'Prices and their currency come from the inventory catalog; the order must be in the currency of its products; each SKU at most once. '
            + 'With an Idempotency-Key the order id is derived from (client, key), so a retry of a request whose answer was lost finds the same order. '
            + 'The order is processed asynchronously; poll the Location.',
          parameters: [idempotencyKey, correlationIdHeader],
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(createOrderBody, 'input') } } },
          responses: {
            202: ok('Accepted; the saga runs in the background', json(orderAccepted), { ...locationHeader, ...replayedHeader }),
            400: problems('The request breaks the schema (each field in "errors"), is not JSON, or has a malformed Idempotency-Key',
              ['ValidationError', 'MalformedJson', 'InvalidIdempotencyKey', 'BadRequest']),
            ...authResponses,
            409: problems('A request with this Idempotency-Key is still in progress; retry', ['IdempotencyKeyInUse'], RETRY_AFTER),
            422: problems('A SKU not in the catalog or listed twice, products priced in another currency, a total above 2147483647 minor units or of 0, or an Idempotency-Key reused with another request',
              ['UnknownSku', 'DuplicateSku', 'CurrencyMismatch', 'OrderTotalTooLarge', 'OrderTotalZero', 'IdempotencyKeyReused']),
            ...postResponses,
            ...commonResponses,
            503: problems('catalog-unavailable: nothing was done, retry later; order-outcome-unknown: the start was not confirmed in time and may have happened (orderId given): retry with the same Idempotency-Key',
              ['CatalogUnavailable', 'OrderOutcomeUnknown'], RETRY_AFTER),
          },
        },
        get: {
          summary: 'List orders, newest first',
          parameters: [
            { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: [...orderStatuses] } },
            { name: 'customerId', in: 'query', required: false, schema: { type: 'string', pattern: CUSTOMER_ID_PATTERN.source } },
            { name: 'clientId', in: 'query', required: false, description: 'Operators: one client\'s orders (a shop sees its own; another client\'s id is 403)', schema: { type: 'string', pattern: CLIENT_ID_PATTERN.source } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 20 } },
            { name: 'cursor', in: 'query', required: false, description: 'nextCursor of the previous page, unchanged', schema: { type: 'string', minLength: 1, maxLength: 200 } },
          ],
          responses: {
            200: ok('One page of orders', json(orderList)),
            400: problems('A query parameter breaks the schema, or one not listed here was sent', ['ValidationError', 'BadRequest']),
            ...authResponses,
            422: problems('A cursor that is not a nextCursor this API handed out', ['InvalidCursor']),
            ...commonResponses,
          },
        },
      },
      '/orders/{orderId}': {
        get: {
          summary: 'Read an order',
          parameters: [orderIdPath],
          responses: {
            200: ok('The order', json(orderView)),
            400: problems('Not an order id', ['ValidationError', 'BadRequest']),
            ...authResponses,
            404: problems('No such order', ['OrderNotFound']),
            ...commonResponses,
            503: problems('Whose order this is could not be learnt just now; retry', ['OrderLookupUnavailable'], RETRY_AFTER),
          },
        },
      },
      '/orders/{orderId}/cancel': {
        post: {
          summary: 'Cancel an order',
          description: 'Answers once the order has accepted the cancel; undoing its steps (release stock, void or refund) runs on. Poll the Location until the status is CANCELLED. No request body.',
          parameters: [orderIdPath, idempotencyKey, correlationIdHeader],
          responses: {
            202: ok('Cancel accepted (or the order was already cancelled by the customer)', json(cancelAccepted), { ...locationHeader, ...replayedHeader }),
            400: problems('Not an order id, a body that is not JSON, or a malformed Idempotency-Key', ['ValidationError', 'MalformedJson', 'InvalidIdempotencyKey', 'BadRequest']),
            ...authResponses,
            404: problems('No such order', ['OrderNotFound']),
            409: problems('The order is being confirmed or has ended and can no longer be cancelled, or a request with this Idempotency-Key is still in progress',
              ['CancelRefused', 'IdempotencyKeyInUse'], RETRY_AFTER),
            422: problems('An Idempotency-Key reused with another request', ['IdempotencyKeyReused']),
            ...postResponses,
            ...commonResponses,
            503: problems('cancel-outcome-unknown: the workflow engine did not confirm the cancel in time; retry with the same Idempotency-Key',
              ['CancelOutcomeUnknown', 'OrderLookupUnavailable'], RETRY_AFTER),
          },
        },
      },
      '/webhooks/payments': {
        post: {
          summary: 'Payment provider webhook: the 3-D Secure outcome of an order\'s payment',
          description: 'Signed, not keyed: Payment-Signature over the raw body. Each event id is recorded; the order takes the first answer.',
          security: [{ paymentSignature: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(webhookBody, 'input') } } },
          responses: {
            200: ok('Received (also a duplicate, or for an order no longer waiting: applied false)', json(webhookReceived)),
            400: problems('A signed body that is not JSON or breaks the schema', ['MalformedJson', 'ValidationError', 'BadRequest']),
            401: problems('Missing, malformed, wrong or stale Payment-Signature', ['InvalidSignature']),
            413: postResponses[413],
            ...commonResponses,
            503: problems('The workflow engine did not answer; deliver the webhook again', ['WorkflowUnavailable']),
          },
        },
      },
      '/analytics/summary': {
        get: {
          summary: 'Orders and amounts by status',
          responses: { 200: ok('Summary', json(analyticsSummary)), ...authResponses, ...commonResponses },
        },
      },
      '/operator/orders/{orderId}/inspection': {
        get: {
          summary: 'Operators: one order seen from everywhere, with a diagnosis',
          description: 'The order row and its changes, the workflow (status, pending activities with attempts and last failure, timers, live state), the outbox, the stream messages, each consumer\'s inbox, dead letters, the email, and the payment and inventory records; `diagnosis.text` says why the order is where it is. A part that could not be read is `{"unreadable": "<why>"}`. The same as `npm run ops -- inspect <orderId> --json`.',
          parameters: [orderIdPath],
          responses: {
            200: ok('The inspection', json(orderInspection)),
            400: problems('Not an order id', ['ValidationError', 'BadRequest']),
            ...authResponses,
            404: problems('No row and no workflow for this id', ['OrderNotFound']),
            ...commonResponses,
            503: problems('This process cannot inspect (no inspection sources, or a peer token such as PAYMENT_TOKEN not set)', ['InspectionUnavailable']),
          },
        },
      },
      '/operator/stuck': {
        get: {
          summary: 'Operators: orders not terminal past a threshold, or whose row and workflow disagree',
          description: 'Each with its diagnosis, the path of its inspection and its workflow in the Temporal Web UI. The same as `npm run ops -- stuck --older-than <olderThan> --json`.',
          parameters: [
            { name: 'olderThan', in: 'query', required: false, description: 'Threshold, e.g. 10m (default), 30s, 2h, 1d', schema: { type: 'string', pattern: DURATION_PATTERN, default: '10m' } },
            { name: 'limit', in: 'query', required: false, description: `At most this many orders (1-${MAX_STUCK_LIMIT}, default 50)`, schema: { type: 'string', pattern: STUCK_LIMIT_PATTERN } },
          ],
          responses: {
            200: ok('The stuck orders, oldest first', json(stuckOrders)),
            400: problems('A malformed threshold or limit, or an unknown parameter', ['ValidationError', 'BadRequest']),
            ...authResponses,
            ...commonResponses,
            503: problems('This process cannot inspect (no inspection sources, or a peer token such as PAYMENT_TOKEN not set)', ['InspectionUnavailable']),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { 200: ok('Metrics in the Prometheus text format', { 'text/plain': { schema: { type: 'string' } } }), ...authResponses, ...commonResponses },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { 200: ok('The OpenAPI 3.1 document', { 'application/json': { schema: { type: 'object' } } }), ...authResponses, ...commonResponses },
        },
      },
      ...codecPaths(namespace),
      ...operatorPagePaths(),
      '/healthz': {
        get: { summary: 'Liveness', ...open, responses: { 200: ok('The process is up', json(liveness)), ...commonResponses } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the database and Temporal answer',
          description: 'Each check says "ok" or "unavailable"; why is in the log, never in the answer. Any valid API key.',
          responses: { 200: ok('Ready', json(readiness)), 503: ok('Not ready', json(readiness)), ...authResponses, ...commonResponses },
        },
      },
    },
  };
}

/**
 * The codec server (api/routes/codec.ts): Temporal's codec server protocol for the Web UI and the
 * CLI, operators only (a bearer operator key, or the cookie POST /codec/session sets).
 */
function codecPaths(served: string) {
  const namespace = { name: 'X-Namespace', in: 'header', required: false, description: 'Temporal namespace; only ours is served', schema: { type: 'string', enum: [served] } };
  const convert = (summary: string) => ({
    post: {
      summary,
      parameters: [namespace],
      // As the router reads it (zod strips unknown fields, so they are allowed, not refused).
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(payloadsBody, 'input') } } },
      responses: {
        200: ok('The payloads, converted, in the same order', json(payloadsBody)),
        400: problems('Not the protocol\'s body, or another namespace', ['ValidationError', 'MalformedJson', 'BadRequest', 'CodecNamespaceUnknown']),
        413: problems('The body is larger than 4 MB', ['PayloadTooLarge']),
        422: problems('A payload of a key that is not configured, or altered', ['PayloadNotDecodable']),
        ...authResponses, ...commonResponses,
      },
    },
  });
  return {
    '/codec/decode': convert('Decode payloads (decrypt) for the Web UI or CLI'),
    '/codec/encode': convert('Encode payloads (encrypt)'),
    '/codec/session': {
      get: {
        summary: 'A form to sign a browser in for decoded payloads',
        ...open,
        responses: { 200: ok('The sign-in form', { 'text/html': { schema: { type: 'string' } } }), ...commonResponses },
      },
      post: {
        summary: 'Sign a browser in with an operator key: sets an HttpOnly session cookie for /codec (8 hours)',
        ...open,
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } } } },
        responses: {
          200: ok('Signed in', { 'text/html': { schema: { type: 'string' } } }, { 'Set-Cookie': header('codec_session, HttpOnly, SameSite=Strict, Path=/codec') }),
          ...authResponses,
          403: problems(`The key is not an operator's, or: ${CROSS_SITE_REFUSED}`, ['Forbidden', 'CrossSiteRequest']),
          ...commonResponses,
        },
      },
    },
  };
}
