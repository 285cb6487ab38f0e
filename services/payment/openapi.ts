import { z } from 'zod';
import { faultPaths } from '../shared/faults';
import {
  callerRefused, idempotencyKeyHeader, idempotentAnswers, ok, pathParam, problem, requestJson, serviceDocument, type OpenApiPaths,
} from '../shared/openapi';
import { amountBodySchema, authorizeBodySchema, emptyBodySchema, orderIdSchema, paymentIdSchema, threeDSecureBodySchema } from './validation';

const paymentStatus = z.enum(['REQUIRES_CONFIRMATION', 'AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'PARTIALLY_REFUNDED']);
const paymentSchema = z.object({
  paymentId: z.uuid(), orderId: z.uuid(), status: paymentStatus,
  amountCents: z.number().int(), currency: z.string(),
  authorizedCents: z.number().int(), capturedCents: z.number().int(), voidedCents: z.number().int(), refundedCents: z.number().int(),
  card: z.object({ label: z.string() }), declineCode: z.string().nullable(),
  createdAt: z.string(), updatedAt: z.string(),
});
const awaitingConfirmation = paymentSchema.extend({
  nextAction: z.object({ type: z.literal('customer_confirmation'), testUrl: z.string() }),
});
const operationSchema = z.object({
  id: z.uuid(), paymentId: z.uuid().nullable(), kind: z.enum(['authorize', 'confirm', 'capture', 'void', 'refund']),
  amountCents: z.number().int(), currency: z.string(), outcome: z.enum(['approved', 'declined', 'requires_confirmation', 'failed']),
  declineCode: z.string().nullable(), createdAt: z.string(),
});
const paymentsOfOrder = z.object({
  orderId: z.uuid(), payment: paymentSchema.nullable(), operations: z.array(operationSchema),
  balance: z.object({
    authorizedCents: z.number().int(), capturedCents: z.number().int(), voidedCents: z.number().int(),
    refundedCents: z.number().int(), heldCents: z.number().int(), netCapturedCents: z.number().int(),
  }),
});
const orderUndo = z.object({
  orderId: z.uuid(), undo: z.enum(['void', 'refund']), result: z.enum(['voided', 'refunded', 'nothing']),
  payment: paymentSchema.nullable(), fence: z.object({ fencedBy: z.enum(['void', 'refund']), fencedAt: z.string() }),
});

const badBody = { 400: problem('Invalid body, path or Idempotency-Key (each field named in "errors"), or malformed JSON'), 413: problem('Body larger than 100 kB') };
const mutation = (testMode: boolean) => ({
  ...badBody, ...callerRefused, 422: idempotentAnswers[422],
  ...(testMode ? { 503: problem('Injected fault (test mode, PUT /test/faults)') } : {}),
});

export function paymentPaths(testMode: boolean): OpenApiPaths {
  const paymentId = pathParam('paymentId', paymentIdSchema);
  const orderId = pathParam('orderId', orderIdSchema);
  const amount = { required: false, content: requestJson(amountBodySchema).content };
  const settle = (summary: string, withAmount: boolean, refusals: string) => ({
    post: {
      summary, parameters: [paymentId, idempotencyKeyHeader], ...(withAmount ? { requestBody: amount } : {}),
      responses: { 200: ok('The payment after the operation', paymentSchema), ...mutation(testMode), 404: problem('No such payment'), 409: problem(refusals) },
    },
  });
  const undo = (summary: string) => ({
    post: {
      summary, parameters: [orderId, idempotencyKeyHeader], requestBody: { required: false, content: requestJson(emptyBodySchema).content },
      responses: { 200: ok('What the undo did', orderUndo), ...mutation(testMode) },
    },
  });
  const paths: OpenApiPaths = {
    '/payments/authorize': {
      post: {
        summary: 'Authorize (hold) an amount on a card',
        description: 'Test cards: tok_visa approves, tok_chargeDeclined declines (402), tok_threeDSecure needs the customer\'s confirmation (202); any other token is declined as invalid (402).',
        parameters: [idempotencyKeyHeader], requestBody: requestJson(authorizeBodySchema),
        responses: {
          201: ok('Authorized', paymentSchema), 202: ok('Waiting for the customer (3-D Secure)', awaitingConfirmation),
          402: problem('Declined: card-declined or invalid-token (declineCode says which)'), ...mutation(testMode),
          409: problem('payment-exists (the order has a payment), order-closed (the order\'s payment was undone)'),
        },
      },
    },
    '/payments': {
      get: {
        summary: 'An order\'s payment, every operation on it, and its balance',
        parameters: [{ name: 'orderId', in: 'query', required: true, schema: z.toJSONSchema(orderIdSchema, { io: 'input' }) }],
        responses: { 200: ok('The order\'s payments', paymentsOfOrder), 400: problem('orderId missing or not a UUID'), ...callerRefused },
      },
    },
    '/payments/{paymentId}': {
      get: { summary: 'One payment', parameters: [paymentId], responses: { 200: ok('The payment', paymentSchema), 400: problem('Not a UUID'), ...callerRefused, 404: problem('No such payment') } },
    },
    '/payments/{paymentId}/capture': settle('Capture an authorized payment (all of it without amountCents); again after a capture is a no-op', true,
      'payment-not-capturable, capture-exceeds-authorization, order-closed'),
    '/payments/{paymentId}/void': settle('Void an authorization', false, 'payment-captured (refund instead), payment-not-voidable'),
    '/payments/{paymentId}/refund': settle('Refund captured money (what is left without amountCents)', true, 'payment-not-refundable, refund-exceeds-capture'),
    '/orders/{orderId}/payment/void': undo('The saga\'s undo of authorize: fence the order, then void its hold or refund its capture'),
    '/orders/{orderId}/payment/refund': undo('The saga\'s undo of capture: fence the order, then refund what was captured'),
  };
  if (!testMode) return paths;
  return {
    ...paths,
    ...faultPaths(),
    '/test/3ds/{orderId}': {
      post: {
        summary: 'Play the customer at their bank: complete or fail 3-D Secure (test mode only); repeating an outcome re-sends its webhook',
        parameters: [orderId], requestBody: requestJson(threeDSecureBodySchema),
        responses: {
          200: ok('The payment after the customer\'s answer', paymentSchema), ...badBody, ...callerRefused,
          404: problem('The order has no payment'), 409: problem('The payment is not waiting for confirmation'),
        },
      },
    },
  };
}

export function paymentDocument(testMode: boolean) {
  return serviceDocument({
    title: 'Payment service',
    description: 'Authorize, capture, void and refund card payments (a stand-in for a payment processor), and the order-level undos of the saga. Every call but health and this document needs a caller token. Errors are RFC 9457 problem details.',
    paths: paymentPaths(testMode),
  });
}
