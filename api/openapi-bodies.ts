import { z } from 'zod';
import { cancelReasonCodes } from '../common/events';
import { orderStatuses } from '../common/order/status';

/**
 * The JSON bodies the API answers with, as the routes build them (api/routes/*), for the OpenAPI
 * document. Request bodies are not here: the document takes them from the zod schemas the routes
 * validate with (api/schemas.ts, api/routes/payment-webhooks.ts).
 */
const timestamp = z.string().datetime({ offset: true });

export const orderAccepted = z.strictObject({
  orderId: z.uuid(),
  status: z.literal('PENDING'),
  totalCents: z.number().int(),
  currency: z.string(),
});

export const cancelAccepted = z.strictObject({
  orderId: z.uuid(),
  cancelRequested: z.literal(true),
  status: z.enum(orderStatuses).optional(),
  reasonCode: z.enum(cancelReasonCodes).optional(),
  refunded: z.boolean().optional(),
});

const sagaState = z.strictObject({
  currentStep: z.string().nullable(),
  completedSteps: z.array(z.string()),
  pendingUndos: z.array(z.string()),
  paymentConfirmationDeadline: z.string().optional(),
  cancelRequested: z.literal(true).optional(),
});

/** GET /orders/{orderId}: the recorded order, and while its saga runs, the saga's live state. */
export const orderView = z.strictObject({
  orderId: z.uuid(),
  status: z.enum(orderStatuses),
  clientId: z.string().optional().describe('the API client (shop) that placed it'),
  customerId: z.string().optional().describe('absent until the order is recorded'),
  currency: z.string().optional(),
  totalCents: z.number().int().nullable().describe('null until the order is recorded'),
  correlationId: z.string().optional().describe('the correlation id of the request that placed it (its X-Correlation-Id, or the trace id of its traceparent, or one we made); in every log line, peer call and event about the order. Absent until the order is recorded'),
  items: z.array(z.strictObject({ sku: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() })),
  reasonCode: z.enum(cancelReasonCodes).optional(),
  reason: z.string().nullable().optional(),
  pendingUndos: z.array(z.string()).optional().describe('undos an operator must still do, when COMPENSATION_FAILED'),
  terminal: z.boolean(),
  createdAt: timestamp.optional(),
  updatedAt: timestamp.optional(),
  saga: sagaState.optional(),
});

export const orderList = z.strictObject({
  items: z.array(z.strictObject({
    orderId: z.uuid(),
    status: z.enum(orderStatuses),
    clientId: z.string().optional(),
    customerId: z.string(),
    currency: z.string(),
    totalCents: z.number().int(),
    reasonCode: z.enum(cancelReasonCodes).optional(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

export const analyticsSummary = z.strictObject({
  totalOrders: z.number().int(),
  byStatus: z.array(z.strictObject({ status: z.string(), currency: z.string(), orders: z.number().int(), amountCents: z.number().int() })),
  revenue: z.array(z.strictObject({ currency: z.string(), revenueCents: z.number().int() })),
});

export const webhookReceived = z.strictObject({
  received: z.literal(true),
  duplicate: z.boolean(),
  applied: z.boolean(),
  detail: z.string().optional(),
});

const checkStatus = z.enum(['ok', 'unavailable']);
export const readiness = z.strictObject({
  status: z.enum(['ready', 'not-ready']),
  checks: z.strictObject({ database: checkStatus, temporal: checkStatus }),
});

export const liveness = z.strictObject({ status: z.literal('ok') });
