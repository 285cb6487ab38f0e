import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { problem } from '../../common/http';
import {
  currentPayment, findPayment, findPaymentsOfOrder, lockOrder, paymentView, recordOperation, updatePayment, type PaymentRow,
} from './payment-store';
import type { ThreeDSecureOutcome } from './validation';
import type { WebhookEvent } from './webhook-sender';

export type PaymentEventType = 'payment.confirmed' | 'payment.failed';

export interface ConfirmationResult {
  payment: ReturnType<typeof paymentView>;
  /** The webhook to (re)send once the transaction has committed. */
  event: WebhookEvent;
}

const EVENT_TYPE: Record<ThreeDSecureOutcome, PaymentEventType> = { complete: 'payment.confirmed', fail: 'payment.failed' };

/**
 * Plays the customer at their bank's 3-D Secure page. Completing authorizes the waiting payment,
 * failing declines it; either way a webhook event is stored to tell the merchant. Repeating the
 * same outcome later changes nothing and re-sends the same event (same id), as real processors
 * deliver webhooks at least once.
 */
export async function confirmThreeDSecure(tx: PoolClient, orderId: string, outcome: ThreeDSecureOutcome): Promise<ConfirmationResult> {
  await lockOrder(tx, orderId);
  const payments = await findPaymentsOfOrder(tx, orderId, true);
  const waiting = payments.find((p) => p.status === 'REQUIRES_CONFIRMATION');
  if (waiting) return applyOutcome(tx, waiting, outcome);

  const earlier = await tx.query<{ id: string; body: string; payment_id: string }>(
    'SELECT id, body, payment_id FROM payment.webhook_events WHERE order_id = $1 AND type = $2 ORDER BY created_at DESC LIMIT 1',
    [orderId, EVENT_TYPE[outcome]]);
  const sent = earlier.rows[0];
  if (sent) {
    const payment = await findPayment(tx, sent.payment_id);
    return { payment: paymentView(payment!), event: { id: sent.id, body: sent.body } };
  }

  const current = currentPayment(payments);
  if (!current) {
    throw problem(404, 'payment-not-found', 'Payment not found',
      `Order ${orderId} has no payment; authorize one with token "tok_threeDSecure" first.`, { orderId });
  }
  throw problem(409, 'payment-not-awaiting-confirmation', 'Payment is not waiting for confirmation',
    `Payment ${current.id} of order ${orderId} is ${current.status}; only a REQUIRES_CONFIRMATION payment can be confirmed or failed.`,
    { orderId, paymentId: current.id, paymentStatus: current.status });
}

async function applyOutcome(tx: PoolClient, payment: PaymentRow, outcome: ThreeDSecureOutcome): Promise<ConfirmationResult> {
  const updated = outcome === 'complete'
    ? await updatePayment(tx, payment.id, { status: 'AUTHORIZED', authorized_cents: payment.amount_cents })
    : await updatePayment(tx, payment.id, { status: 'DECLINED', decline_code: 'authentication_failed' });
  await recordOperation(tx, {
    paymentId: payment.id, orderId: payment.order_id, kind: 'confirm', amountCents: payment.amount_cents, currency: payment.currency,
    outcome: outcome === 'complete' ? 'approved' : 'declined', declineCode: updated.decline_code,
  });

  const type = EVENT_TYPE[outcome];
  const id = randomUUID();
  const body = JSON.stringify({ id, type, orderId: payment.order_id, paymentId: payment.id, occurredAt: updated.updated_at.toISOString() });
  await tx.query('INSERT INTO payment.webhook_events (id, payment_id, order_id, type, body) VALUES ($1, $2, $3, $4, $5)',
    [id, payment.id, payment.order_id, type, body]);
  return { payment: paymentView(updated), event: { id, body } };
}
