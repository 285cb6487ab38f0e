import express, { Router } from 'express';
import { z } from 'zod';
import { malformedJsonProblem, problem, validationProblem } from '../../common/http';
import { orderWorkflowId, paymentConfirmationSignal } from '../../common/order/workflow-contract';
import { checkWebhookSignature, PAYMENT_SIGNATURE_HEADER } from '../../common/webhook-signature';
import type { ApiDeps } from '../deps';

/** Signed requests older or newer than this are refused, so a captured request cannot be replayed later. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The webhook's body (other fields are ignored). */
export const webhookBody = z.object({
  // Visible ASCII: the id is stored, and Postgres refuses some characters (a NUL byte) outright.
  id: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible ASCII characters'),
  type: z.enum(['payment.confirmed', 'payment.failed']),
  orderId: z.string().uuid(),
  paymentId: z.string().min(1),
  occurredAt: z.string().optional(),
});

/**
 * The payment provider's webhook: the customer passed (or failed) the 3-D Secure challenge.
 * Authenticated by an HMAC signature over the raw body with a timestamp; replay-safe because
 * each event id is recorded and the workflow takes only the first answer.
 */
export function paymentWebhooksRouter({ pool, temporal, logger, paymentWebhookSecret, paymentWebhookPreviousSecret, temporalCallTimeoutMs }: ApiDeps): Router {
  const router = Router();
  // During a rotation both the new and the previous secret are accepted (README, "Rotating the webhook secret").
  const secrets = paymentWebhookPreviousSecret ? [paymentWebhookSecret, paymentWebhookPreviousSecret] : [paymentWebhookSecret];
  router.post('/webhooks/payments', express.raw({ type: '*/*', limit: '64kb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = checkWebhookSignature(secrets, req.get(PAYMENT_SIGNATURE_HEADER), raw, WEBHOOK_TOLERANCE_SECONDS);
    if (!check.valid) throw problem(401, 'invalid-signature', 'Webhook signature rejected', `Refused: ${check.reason}.`);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw malformedJsonProblem();
    }
    const parsed = webhookBody.safeParse(json);
    if (!parsed.success) throw validationProblem(parsed.error, 'webhook body');
    const event = parsed.data;

    const { rowCount } = await pool.query({
      name: 'payment-webhook-event-insert',
      text: 'INSERT INTO payment_webhook_events (event_id, order_id, type) VALUES ($1, $2::uuid, $3) ON CONFLICT DO NOTHING',
      values: [event.id, event.orderId, event.type],
    });
    const count = rowCount ?? 0;
    try {
      // Signalled even for a duplicate: if an earlier delivery was recorded but not signalled, this one finishes the job.
      await temporal.withDeadline(Date.now() + temporalCallTimeoutMs, () => temporal.workflow.getHandle(orderWorkflowId(event.orderId)).signal(paymentConfirmationSignal, {
        outcome: event.type === 'payment.confirmed' ? 'confirmed' : 'failed',
        eventId: event.id,
      }));
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') {
        res.json({ received: true, duplicate: count === 0, applied: false, detail: 'the order is no longer waiting for a payment confirmation' });
        return;
      }
      logger.error({ err, orderId: event.orderId }, 'could not signal the order workflow');
      throw problem(503, 'workflow-unavailable', 'Webhook not applied', 'The workflow engine did not answer; deliver this webhook again.');
    }
    res.json({ received: true, duplicate: count === 0, applied: true });
  });
  return router;
}
