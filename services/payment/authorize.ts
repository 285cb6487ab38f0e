import type { PoolClient } from 'pg';
import { problem } from '../../common/http';
import type { StoredResponse } from '../shared/idempotency';
import { refusal } from '../shared/idempotent-response';
import { identifyCard, type DeclineCode } from './card-tokens';
import { findFence, findPaymentsOfOrder, insertPayment, lockOrder, orderClosed, paymentView, recordOperation, type PaymentStatus } from './payment-store';
import type { AuthorizeBody } from './validation';

/** Declines are final answers about this card: retrying the same request cannot change them. */
export function declineProblem(declineCode: DeclineCode, orderId: string, paymentId: string) {
  const extensions = { declineCode, orderId, paymentId };
  switch (declineCode) {
    case 'invalid_token':
      return problem(402, 'invalid-token', 'Payment token not recognized',
        'The card token is not one this processor issued; ask the customer for another payment method. Retrying will not help.', extensions);
    case 'authentication_failed':
      return problem(402, 'card-declined', 'Card declined',
        'The customer did not complete 3-D Secure authentication; ask for another payment method.', extensions);
    case 'card_declined':
      return problem(402, 'card-declined', 'Card declined',
        'The card issuer declined the payment; ask the customer for another payment method. Retrying will not help.', extensions);
  }
}

export async function authorizePayment(tx: PoolClient, body: AuthorizeBody, idempotencyKey: string, instance: string): Promise<StoredResponse> {
  const { orderId, amountCents, currency } = body;
  await lockOrder(tx, orderId);
  // The merchant already undid this order's payment: a late authorization must not put a hold on the card.
  const fence = await findFence(tx, orderId);
  if (fence) {
    await recordOperation(tx, { paymentId: null, orderId, kind: 'authorize', amountCents, currency, outcome: 'failed', declineCode: 'order_closed', idempotencyKey });
    return refusal(orderClosed(fence, 'authorize'), instance);
  }
  const live = (await findPaymentsOfOrder(tx, orderId)).find((p) => p.status !== 'DECLINED');
  if (live) {
    await recordOperation(tx, { paymentId: null, orderId, kind: 'authorize', amountCents, currency, outcome: 'failed', declineCode: 'payment_exists', idempotencyKey });
    return refusal(problem(409, 'payment-exists', 'Order already has a payment',
      `Order ${orderId} already has payment ${live.id} (status ${live.status}); an order has one payment at a time. Read it with GET /payments/${live.id}.`,
      { orderId, paymentId: live.id, paymentStatus: live.status }), instance);
  }

  const card = identifyCard(body.token);
  const { verdict } = card;
  const status: PaymentStatus = verdict.kind === 'approve' ? 'AUTHORIZED' : verdict.kind === 'decline' ? 'DECLINED' : 'REQUIRES_CONFIRMATION';
  const declineCode = verdict.kind === 'decline' ? verdict.declineCode : null;
  const payment = await insertPayment(tx, {
    order_id: orderId, amount_cents: amountCents, currency, status, card_label: card.label, card_fingerprint: card.fingerprint,
    decline_code: declineCode, authorized_cents: status === 'AUTHORIZED' ? amountCents : 0,
  });
  const outcome = verdict.kind === 'approve' ? 'approved' : verdict.kind === 'decline' ? 'declined' : 'requires_confirmation';
  await recordOperation(tx, { paymentId: payment.id, orderId, kind: 'authorize', amountCents, currency, outcome, declineCode, idempotencyKey });

  switch (verdict.kind) {
    case 'approve':
      return { status: 201, body: paymentView(payment) };
    case 'decline':
      return refusal(declineProblem(verdict.declineCode, orderId, payment.id), instance);
    case 'requires_confirmation':
      return {
        status: 202,
        body: {
          ...paymentView(payment),
          // In a real processor the customer is redirected to their bank; here a test endpoint plays them.
          nextAction: { type: 'customer_confirmation', testUrl: `/test/3ds/${orderId}` },
        },
      };
  }
}
