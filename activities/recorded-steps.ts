import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { STEP_RECORD_NOT_WRITTEN_FAILURE } from '../common/failures';
import type { OrderTransition } from '../common/order/status';
import type { AuthorizeRequest, AuthorizeResult } from './payment';
import type { StockRequest } from './inventory';
import type { TransitionRequest } from './order-state';

/** The activities a recorded step is made of (activities/index.ts passes the real ones). */
interface StepActivities {
  reserveStock(req: StockRequest): Promise<void>;
  authorizePayment(req: AuthorizeRequest): Promise<AuthorizeResult>;
  capturePayment(req: { orderId: string; paymentId: string }): Promise<{ amountCents: number }>;
  recordOrderTransition(req: TransitionRequest, givenUp?: AbortSignal): Promise<string>;
}

/** A transition request whose transition the step's answer completes (the payment id). */
type RecordAfter = Omit<TransitionRequest, 'transition'>;

/**
 * A forward step and the state change it causes, in one activity (since change `fused-step-records`,
 * workflows/cancel-reasons.ts): the saga's local attempt of each forward step also records its
 * transition, so an order that meets no fault runs three local activities fewer.
 *
 * The step's own failures reach the saga unchanged (a business outcome cancels the order, a
 * transient one hands over to the regular activity). A step that succeeded but whose transition
 * could not be written fails with STEP_RECORD_NOT_WRITTEN_FAILURE, retryable: the saga then runs
 * the step again as before (its idempotency key returns the same answer) and records the
 * transition on its own, with the recording budget and outcomes it always had. The event id is the
 * saga's, drawn up front, so a transition written by an attempt whose answer was lost is found and
 * not written twice. Every record failure is wrapped, the permanent InvalidOrderTransition too: as
 * a failure of the step it would cancel the order as the step's; the saga's own record reaches the
 * same refusal and handles it as it always did (OrderStateNotRecorded).
 *
 * A local attempt that ran past its 1 s timeout is given up by the saga (which goes on with the
 * regular activity) but keeps running here, as the peers' calls do not stop: its transition is
 * then not written (nor committed if under way), so a step that lands late cannot move the order
 * after the saga moved on, e.g. to its undos. The peers fence their own late calls.
 */
export function createRecordedStepActivities(steps: StepActivities) {
  async function recordAfterStep(record: TransitionRequest): Promise<string> {
    const givenUp = Context.current().cancellationSignal;
    try {
      return await steps.recordOrderTransition(record, givenUp);
    } catch (err) {
      if (givenUp.aborted) throw err; // the saga no longer waits for this attempt
      throw ApplicationFailure.create({
        type: STEP_RECORD_NOT_WRITTEN_FAILURE, cause: err as Error,
        message: `Order ${record.orderId}: the step succeeded but its move to ${record.transition.to} was not written; the saga records it on its own`,
      });
    }
  }

  return {
    /** reserveStock, then STOCK_RESERVED. Returns the event id. */
    async reserveStockRecorded({ step, record }: { step: StockRequest; record: TransitionRequest & { transition: { to: 'STOCK_RESERVED' } } }): Promise<string> {
      await steps.reserveStock(step);
      return recordAfterStep(record);
    },

    /**
     * authorizePayment, then PAYMENT_AUTHORIZED when the payment needs no confirmation from the
     * customer (3-D Secure is waited for by the saga, which records that move itself).
     */
    async authorizePaymentRecorded({ step, record }: { step: AuthorizeRequest; record: RecordAfter }): Promise<{ payment: AuthorizeResult; eventId?: string }> {
      const payment = await steps.authorizePayment(step);
      if (payment.status !== 'AUTHORIZED') return { payment };
      const transition: OrderTransition = { to: 'PAYMENT_AUTHORIZED', paymentId: payment.paymentId };
      return { payment, eventId: await recordAfterStep({ ...record, transition }) };
    },

    /** capturePayment, then PAYMENT_CAPTURED. Returns the event id. */
    async capturePaymentRecorded({ step, record }: { step: { orderId: string; paymentId: string }; record: RecordAfter }): Promise<string> {
      await steps.capturePayment(step);
      return recordAfterStep({ ...record, transition: { to: 'PAYMENT_CAPTURED', paymentId: step.paymentId } });
    },
  };
}
