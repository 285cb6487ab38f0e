import { ApplicationFailure } from '@temporalio/common';
import { PaymentOrderClosedError, type PaymentClient } from '../common/clients/payment-client';
import { BusinessFailure, PAYMENT_ORDER_CLOSED_FAILURE } from '../common/failures';
import { idempotencyKeys } from './idempotency-keys';
import { businessOutcome, callPeer } from './peer-errors';

export interface AuthorizeRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  paymentToken: string;
}

export type AuthorizeResult = { status: 'AUTHORIZED' | 'REQUIRES_CONFIRMATION'; paymentId: string };

/** The order's payment was undone before this step's request arrived: nothing was done, and retrying will not change that. */
function orderClosed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: PAYMENT_ORDER_CLOSED_FAILURE, nonRetryable: true });
}

export function createPaymentActivities(payment: PaymentClient) {
  return {
    async authorizePayment(req: AuthorizeRequest): Promise<AuthorizeResult> {
      const outcome = await callPeer(() => payment.authorize(
        { orderId: req.orderId, amountCents: req.amountCents, currency: req.currency, token: req.paymentToken },
        idempotencyKeys.authorizePayment(req.orderId)));
      if (outcome.kind === 'declined') {
        throw businessOutcome(BusinessFailure.PaymentDeclined, `Payment declined (${outcome.declineCode})`, { declineCode: outcome.declineCode });
      }
      if (outcome.kind === 'refused') throw orderClosed(`Payment of order ${req.orderId} not authorized: the order's payment was already undone`);
      return { status: outcome.kind === 'authorized' ? 'AUTHORIZED' : 'REQUIRES_CONFIRMATION', paymentId: outcome.paymentId };
    },

    async capturePayment({ orderId, paymentId }: { orderId: string; paymentId: string }): Promise<{ amountCents: number }> {
      try {
        const captured = await callPeer(() => payment.capture(paymentId, idempotencyKeys.capturePayment(orderId)));
        return { amountCents: captured.amountCents };
      } catch (err) {
        if (err instanceof PaymentOrderClosedError) throw orderClosed(err.message);
        throw err;
      }
    },

    /**
     * Undo of authorizePayment, by order id (the step's answer may have been lost, or its request
     * may still be on its way). The payment service first fences the order, so an authorization or
     * capture arriving later is refused, then settles what the order has: a hold is voided
     * ('voided'), a capture that landed anyway is refunded ('refunded': no money stays taken), no
     * payment or a declined one leaves nothing to do ('nothing-to-void'). Idempotent: the answer is
     * kept under the undo's key, so a retry gets the same one.
     */
    async voidPayment({ orderId }: { orderId: string }): Promise<'voided' | 'refunded' | 'nothing-to-void'> {
      const { result } = await callPeer(() => payment.voidOrder(orderId, idempotencyKeys.voidPayment(orderId)));
      return result === 'nothing' ? 'nothing-to-void' : result;
    },

    /**
     * Undo of capturePayment, by order id: fences the order (a capture arriving later is refused,
     * and the void undo that follows releases the hold), then refunds what was captured
     * ('refunded'); 'nothing-to-refund' if nothing was.
     */
    async refundPayment({ orderId }: { orderId: string }): Promise<'refunded' | 'nothing-to-refund'> {
      const { result } = await callPeer(() => payment.refundOrder(orderId, idempotencyKeys.refundPayment(orderId)));
      return result === 'refunded' ? 'refunded' : 'nothing-to-refund';
    },
  };
}
