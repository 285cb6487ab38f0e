import { Router } from 'express';
import type { Pool } from 'pg';
import { requireIdempotencyKey, runIdempotent } from '../shared/idempotency';
import { sendIdempotentResult } from '../shared/idempotent-response';
import { authorizePayment } from './authorize';
import { balanceOf, currentPayment, findOperationsOfOrder, findPayment, findPaymentsOfOrder, paymentNotFound, paymentView } from './payment-store';
import { PAYMENT_SCHEMA } from './schema';
import { undoOrderPayment, type OrderUndo } from './order-undo';
import { capturePayment, refundPayment, voidPayment } from './settle';
import { amountBodySchema, authorizeBodySchema, emptyBodySchema, orderIdSchema, ordersQuerySchema, paymentIdSchema } from './validation';

export function paymentRoutes(pool: Pool): Router {
  const router = Router();

  // Key and body are checked before anything runs, so bad input writes nothing, not even the key.
  router.post('/payments/authorize', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const body = authorizeBodySchema.parse(req.body ?? {});
    const result = await runIdempotent(pool, PAYMENT_SCHEMA, key, 'authorize-payment', body,
      (tx) => authorizePayment(tx, body, key, req.originalUrl));
    sendIdempotentResult(res, result);
  });

  router.post('/payments/:paymentId/capture', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const paymentId = paymentIdSchema.parse(req.params.paymentId);
    const { amountCents } = amountBodySchema.parse(req.body ?? {});
    const result = await runIdempotent(pool, PAYMENT_SCHEMA, key, 'capture-payment', { paymentId, amountCents },
      (tx) => capturePayment(tx, { paymentId, idempotencyKey: key, instance: req.originalUrl }, amountCents));
    sendIdempotentResult(res, result);
  });

  router.post('/payments/:paymentId/void', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const paymentId = paymentIdSchema.parse(req.params.paymentId);
    const result = await runIdempotent(pool, PAYMENT_SCHEMA, key, 'void-payment', { paymentId },
      (tx) => voidPayment(tx, { paymentId, idempotencyKey: key, instance: req.originalUrl }));
    sendIdempotentResult(res, result);
  });

  router.post('/payments/:paymentId/refund', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const paymentId = paymentIdSchema.parse(req.params.paymentId);
    const { amountCents } = amountBodySchema.parse(req.body ?? {});
    const result = await runIdempotent(pool, PAYMENT_SCHEMA, key, 'refund-payment', { paymentId, amountCents },
      (tx) => refundPayment(tx, { paymentId, idempotencyKey: key, instance: req.originalUrl }, amountCents));
    sendIdempotentResult(res, result);
  });

  // The saga's undos, addressed by order: fence the order against late authorizations and
  // captures, then void or refund whatever it has by now (order-undo.ts).
  for (const undo of ['void', 'refund'] as const satisfies readonly OrderUndo[]) {
    router.post(`/orders/:orderId/payment/${undo}`, async (req, res) => {
      const key = requireIdempotencyKey(req.get('Idempotency-Key'));
      const orderId = orderIdSchema.parse(req.params.orderId);
      emptyBodySchema.parse(req.body ?? {});
      const result = await runIdempotent(pool, PAYMENT_SCHEMA, key, `${undo}-order-payment`, { orderId },
        (tx) => undoOrderPayment(tx, orderId, undo, key, req.originalUrl));
      sendIdempotentResult(res, result);
    });
  }

  router.get('/payments', async (req, res) => {
    const { orderId } = ordersQuerySchema.parse(req.query);
    const [payments, operations] = await Promise.all([findPaymentsOfOrder(pool, orderId), findOperationsOfOrder(pool, orderId)]);
    const payment = currentPayment(payments);
    res.json({ orderId, payment: payment ? paymentView(payment) : null, operations, balance: balanceOf(payments) });
  });

  router.get('/payments/:paymentId', async (req, res) => {
    const paymentId = paymentIdSchema.parse(req.params.paymentId);
    const payment = await findPayment(pool, paymentId);
    if (!payment) throw paymentNotFound(paymentId);
    res.json(paymentView(payment));
  });

  return router;
}
