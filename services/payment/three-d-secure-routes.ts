import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { withTransaction } from '../../common/pg';
import { confirmThreeDSecure } from './three-d-secure';
import { threeDSecureBodySchema } from './validation';
import type { WebhookSender } from './webhook-sender';

const orderIdSchema = z.uuid('must be a UUID');

/** Test-only: stands in for the customer at their bank. No Idempotency-Key: repeating is safe by design. */
export function threeDSecureRoutes(pool: Pool, webhooks: WebhookSender): Router {
  const router = Router();
  router.post('/test/3ds/:orderId', async (req, res) => {
    const orderId = orderIdSchema.parse(req.params.orderId);
    const { outcome } = threeDSecureBodySchema.parse(req.body ?? {});
    const { payment, event } = await withTransaction(pool, (tx) => confirmThreeDSecure(tx, orderId, outcome));
    webhooks.deliver(event);
    res.json(payment);
  });
  return router;
}
