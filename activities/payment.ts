import type { PaymentClient } from '../common/clients/payment-client';
import { BusinessFailure } from '../common/failures';
import { idempotencyKeys } from './idempotency-keys';
import { businessOutcome, callPeer } from './peer-errors';

export interface AuthorizeRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  paymentToken: string;
}

export type AuthorizeResult = { status: 'AUTHORIZED' | 'REQUIRES_CONFIRMATION'; paymentId: string };

export function createPaymentActivities(payment: PaymentClient) {
  /** The order's payment, looked up by order id: an undo must work even if the step's answer was lost. */
  async function paymentOf(orderId: string) {
    const { payment: current } = await callPeer(() => payment.forOrder(orderId));
    return current;
  }

  return {
    async authorizePayment(req: AuthorizeRequest): Promise<AuthorizeResult> {
      const outcome = await callPeer(() => payment.authorize(
        { orderId: req.orderId, amountCents: req.amountCents, currency: req.currency, token: req.paymentToken },
        idempotencyKeys.authorizePayment(req.orderId)));
      if (outcome.kind === 'declined') {
        throw businessOutcome(BusinessFailure.PaymentDeclined, `Payment declined (${outcome.declineCode})`, { declineCode: outcome.declineCode });
      }
      return { status: outcome.kind === 'authorized' ? 'AUTHORIZED' : 'REQUIRES_CONFIRMATION', paymentId: outcome.paymentId };
    },

    async capturePayment({ orderId, paymentId }: { orderId: string; paymentId: string }): Promise<{ amountCents: number }> {
      const captured = await callPeer(() => payment.capture(paymentId, idempotencyKeys.capturePayment(orderId)));
      return { amountCents: captured.amountCents };
    },

    /** Undo of authorizePayment: voids whatever authorization the order has; nothing to do if none. */
    async voidPayment({ orderId }: { orderId: string }): Promise<'voided' | 'nothing-to-void'> {
      const current = await paymentOf(orderId);
      if (!current || !['AUTHORIZED', 'REQUIRES_CONFIRMATION', 'VOIDED'].includes(current.status)) return 'nothing-to-void';
      await callPeer(() => payment.void(current.paymentId, idempotencyKeys.voidPayment(orderId)));
      return 'voided';
    },

    /** Undo of capturePayment: refunds the captured amount; nothing to do if nothing was captured. */
    async refundPayment({ orderId }: { orderId: string }): Promise<'refunded' | 'nothing-to-refund'> {
      const current = await paymentOf(orderId);
      if (!current || !['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(current.status)) return 'nothing-to-refund';
      await callPeer(() => payment.refund(current.paymentId, idempotencyKeys.refundPayment(orderId)));
      return 'refunded';
    },
  };
}
