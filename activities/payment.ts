import { ApplicationFailure } from '@temporalio/common';
import { PaymentOrderClosedError, type PaymentClient } from '../common/clients/payment-client';
import type { Pool } from 'pg';
import { BusinessFailure, ORDER_SECRET_MISSING_FAILURE, PAYMENT_ORDER_CLOSED_FAILURE } from '../common/failures';
import { OrderSecretMissingError, readPaymentToken } from '../common/order-vault';
import { idempotencyKeys } from './idempotency-keys';
import { businessOutcome, callPeer } from './peer-errors';

export interface AuthorizeRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  /** Only in histories from before the order vault; today the token is read from the vault by order id. */
  paymentToken?: string;
}

export type AuthorizeResult = { status: 'AUTHORIZED' | 'REQUIRES_CONFIRMATION'; paymentId: string };
export type CaptureRequest = { orderId: string; paymentId: string };

/** The order's payment was undone before this step's request arrived: nothing was done, and retrying will not change that. */
function orderClosed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: PAYMENT_ORDER_CLOSED_FAILURE, nonRetryable: true });
}

/** The card token to charge: from the vault, so that it never is in an activity's input. */
async function paymentTokenOf(pool: Pool, req: AuthorizeRequest): Promise<string> {
  if (req.paymentToken !== undefined) return req.paymentToken;
  try {
    return await readPaymentToken(pool, req.orderId);
  } catch (err) {
    if (err instanceof OrderSecretMissingError) throw ApplicationFailure.create({ message: err.message, type: ORDER_SECRET_MISSING_FAILURE, nonRetryable: true });
    throw err;
  }
}

export function createPaymentActivities(payment: PaymentClient, pool: Pool) {
  return {
    async authorizePayment(req: AuthorizeRequest): Promise<AuthorizeResult> {
      const token = await paymentTokenOf(pool, req);
      const outcome = await callPeer(() => payment.authorize(
        { orderId: req.orderId, amountCents: req.amountCents, currency: req.currency, token },
        idempotencyKeys.authorizePayment(req.orderId)));
      if (outcome.kind === 'declined') {
        throw businessOutcome(BusinessFailure.PaymentDeclined, `Payment declined (${outcome.declineCode})`, { declineCode: outcome.declineCode });
      }
      if (outcome.kind === 'refused') throw orderClosed(`Payment of order ${req.orderId} not authorized: the order's payment was already undone`);
      return { status: outcome.kind === 'authorized' ? 'AUTHORIZED' : 'REQUIRES_CONFIRMATION', paymentId: outcome.paymentId };
    },

    async capturePayment({ orderId, paymentId }: CaptureRequest): Promise<{ amountCents: number }> {
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
