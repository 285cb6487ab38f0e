import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { CancelReasonCode } from '../common/events';
import { BusinessFailure } from '../common/failures';
import { cancelRefusal, type OrderTransition } from '../common/order/status';
import {
  cancelOrderUpdate,
  CancelRefusedError,
  DEFAULT_PAYMENT_CONFIRMATION_TIMEOUT_MS,
  orderStatusQuery,
  paymentConfirmationSignal,
  type OrderOutcome,
  type OrderSagaState,
  type OrderWorkflowInput,
  type PaymentConfirmation,
} from '../common/order/workflow-contract';
import { OrderStatusAttribute } from '../common/search-attributes';
import { forwardStepOptions, recordStateOptions, undoStepOptions } from './retry-policies';
import { Saga } from './saga';

/** Activity proxies; the summary shows next to each activity in the Web UI. */
function step(summary: string, options: ActivityOptions = forwardStepOptions) {
  return proxyActivities<OrderActivities>({ ...options, summary });
}
const record = proxyActivities<OrderActivities>({ ...recordStateOptions, summary: 'Record order state and event' });

type CancelReason = { reasonCode: CancelReasonCode; reason: string };

/**
 * Why a failed step cancels the order. Business outcomes carry their own reason; a step that
 * failed for good otherwise (retries exhausted, a peer breaking its contract) also cancels the
 * order, with everything undone, so that no order is left half-done.
 */
function cancelReasonOf(err: unknown): CancelReason | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const failure = err.cause;
  if (failure instanceof ApplicationFailure) {
    if (failure.type === BusinessFailure.OutOfStock || failure.type === BusinessFailure.UnknownSku) return { reasonCode: 'OUT_OF_STOCK', reason: failure.message };
    if (failure.type === BusinessFailure.PaymentDeclined) return { reasonCode: 'PAYMENT_DECLINED', reason: failure.message };
  }
  return { reasonCode: 'PROCESSING_FAILED', reason: `Step ${err.activityType} failed: ${failure?.message ?? err.message}` };
}

/** Raised inside the workflow when the saga itself decides to cancel the order, with why. */
class CancelOrder extends Error {
  constructor(readonly cancel: CancelReason) {
    super(cancel.reason);
  }
}
const customerCancelled: CancelReason = { reasonCode: 'CUSTOMER_CANCELLED', reason: 'Cancelled at the customer\'s request' };

/**
 * The order saga: reserve stock → authorize payment (→ wait for the customer's confirmation) →
 * capture → commit stock → confirm. A business failure, a missed confirmation deadline or a
 * customer's cancel undoes the finished steps in reverse order and ends the order CANCELLED; an
 * undo that cannot finish ends it COMPENSATION_FAILED with what is left to do.
 */
export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderOutcome> {
  const { orderId } = input;
  const saga = new Saga();
  const live: OrderSagaState = { orderId, status: 'PENDING', currentStep: null, completedSteps: [] };
  let confirmation: PaymentConfirmation | undefined;
  let outcome: OrderOutcome | undefined;
  let refunded = false;
  let lastEventId: string;

  setHandler(orderStatusQuery, () => ({ ...live, completedSteps: [...live.completedSteps], pendingUndos: saga.pending }));
  setHandler(paymentConfirmationSignal, (c) => {
    confirmation ??= c; // the first answer counts; a redelivered webhook changes nothing
  });

  const forwardScope = new CancellationScope();
  setHandler(cancelOrderUpdate, async () => {
    live.cancelRequested = true;
    forwardScope.cancel();
    await condition(() => outcome !== undefined);
    return { orderId, status: outcome!.status, reasonCode: outcome!.reasonCode, refunded };
  }, {
    validator: () => {
      const refusal = cancelRefusal(live, outcome);
      if (refusal) throw new CancelRefusedError(refusal);
    },
  });

  function show(): void {
    upsertSearchAttributes([{ key: OrderStatusAttribute, value: live.status }]);
    setCurrentDetails([
      `**Status:** ${live.status}`,
      `**Current step:** ${live.currentStep ?? '–'}`,
      `**Done:** ${live.completedSteps.join(', ') || '–'}`,
      `**Would undo:** ${saga.pending.join(', ') || '–'}`,
      ...(live.paymentConfirmationDeadline ? [`**Waiting for payment confirmation until:** ${live.paymentConfirmationDeadline}`] : []),
      ...(live.reason ? [`**Reason:** ${live.reason}`] : []),
    ].join('\n\n'));
  }

  async function run<T>(name: string, action: () => Promise<T>): Promise<T> {
    live.currentStep = name;
    show();
    const result = await action();
    live.completedSteps.push(name);
    live.currentStep = null;
    return result;
  }

  async function transition(t: OrderTransition): Promise<void> {
    lastEventId = await record.recordOrderTransition({ orderId, eventId: uuid4(), causationId: lastEventId, transition: t });
    live.status = t.to;
    show();
  }

  const { paymentToken, paymentConfirmationTimeoutMs, ...order } = input;
  lastEventId = await record.recordOrderPlaced({ order, eventId: uuid4() });
  show();

  try {
    await forwardScope.run(async () => {
      const lines = input.lines.map(({ sku, quantity }) => ({ sku, quantity }));
      saga.register('release-stock', () => step('Undo: release stock', undoStepOptions).releaseStock({ orderId }));
      await run('reserve-stock', () => step('Reserve stock').reserveStock({ orderId, lines }));
      await transition({ to: 'STOCK_RESERVED' });

      saga.register('void-payment', () => step('Undo: void payment', undoStepOptions).voidPayment({ orderId }));
      const auth = await run('authorize-payment', () =>
        step('Authorize payment').authorizePayment({ orderId, amountCents: input.totalCents, currency: input.currency, paymentToken }));
      if (auth.status === 'REQUIRES_CONFIRMATION') {
        const timeoutMs = paymentConfirmationTimeoutMs ?? DEFAULT_PAYMENT_CONFIRMATION_TIMEOUT_MS;
        const deadline = new Date(Date.now() + timeoutMs).toISOString(); // workflow time: deterministic
        live.paymentConfirmationDeadline = deadline;
        await transition({ to: 'AWAITING_PAYMENT_CONFIRMATION', paymentId: auth.paymentId, deadline });
        const answered = await run('await-payment-confirmation', () => condition(() => confirmation !== undefined, timeoutMs));
        live.paymentConfirmationDeadline = undefined;
        if (!answered) throw new CancelOrder({ reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT', reason: 'The customer did not confirm the payment in time' });
        if (confirmation!.outcome !== 'confirmed') {
          throw new CancelOrder({ reasonCode: 'PAYMENT_DECLINED', reason: 'Payment declined (customer authentication failed)' });
        }
      }
      await transition({ to: 'PAYMENT_AUTHORIZED', paymentId: auth.paymentId });

      saga.register('refund-payment', async () => {
        refunded = (await step('Undo: refund payment', undoStepOptions).refundPayment({ orderId })) === 'refunded';
      });
      await run('capture-payment', () => step('Capture payment').capturePayment({ orderId, paymentId: auth.paymentId }));
      await transition({ to: 'PAYMENT_CAPTURED', paymentId: auth.paymentId });
    });

    // A cancel accepted as the last forward step finished still wins: it refunds the capture.
    if (live.cancelRequested) throw new CancelOrder(customerCancelled);
    // Past this point the order can no longer be cancelled (the cancel validator refuses it).
    await run('commit-stock', () => step('Commit stock').commitStock({ orderId }));
    await transition({ to: 'CONFIRMED' });
    outcome = { orderId, status: 'CONFIRMED' };
    return outcome;
  } catch (err) {
    const cancel = err instanceof CancelOrder ? err.cancel
      : live.cancelRequested && isCancellation(err) ? customerCancelled
      : cancelReasonOf(err);
    if (!cancel) throw err;
    outcome = await CancellationScope.nonCancellable(() => undoAndClose(cancel));
    return outcome;
  }

  /** Runs the registered undos and records the order's end: CANCELLED, or COMPENSATION_FAILED. */
  async function undoAndClose(cancel: CancelReason): Promise<OrderOutcome> {
    log.info('cancelling order, undoing finished steps', { orderId, reasonCode: cancel.reasonCode, undos: saga.pending });
    live.reasonCode = cancel.reasonCode;
    live.reason = cancel.reason;
    live.currentStep = 'compensating';
    show();
    try {
      await saga.compensate();
    } catch (err) {
      const pendingUndos = saga.pending;
      log.error('an undo step could not finish; the order needs an operator', { orderId, pendingUndos, error: (err as Error).message });
      live.currentStep = null;
      await transition({ to: 'COMPENSATION_FAILED', ...cancel, pendingUndos });
      return { orderId, status: 'COMPENSATION_FAILED', ...cancel, pendingUndos };
    }
    live.currentStep = null;
    // Payments are captured in full, so a refund gives back the order's total.
    await transition({ to: 'CANCELLED', ...cancel, ...(refunded ? { refundedCents: input.totalCents } : {}) });
    return { orderId, status: 'CANCELLED', ...cancel };
  }
}

