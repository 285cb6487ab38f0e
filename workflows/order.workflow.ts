import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { OrderTransition } from '../activities/order-state';
import type { CancelReasonCode } from '../common/events';
import { BusinessFailure } from '../common/failures';
import type { OrderOutcome, OrderSagaState, OrderWorkflowInput } from '../common/order';
import { forwardStepOptions, recordStateOptions, undoStepOptions } from './retry-policies';
import { Saga } from './saga';

const forward = proxyActivities<OrderActivities>(forwardStepOptions);
const undo = proxyActivities<OrderActivities>(undoStepOptions);
const state = proxyActivities<OrderActivities>(recordStateOptions);

export const orderStatusQuery = defineQuery<OrderSagaState>('status');

/**
 * Why a failed step cancels the order. Business outcomes carry their own reason; a step that
 * failed for good otherwise (retries exhausted, a peer breaking its contract) also cancels the
 * order, with everything undone, so that no order is left half-done.
 */
function cancelReasonOf(err: unknown): { reasonCode: CancelReasonCode; reason: string } | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) {
    return err instanceof ActivityFailure ? { reasonCode: 'PROCESSING_FAILED', reason: `Step ${err.activityType} failed: ${err.cause?.message ?? err.message}` } : undefined;
  }
  switch (failure.type) {
    case BusinessFailure.OutOfStock:
    case BusinessFailure.UnknownSku:
      return { reasonCode: 'OUT_OF_STOCK', reason: failure.message };
    case BusinessFailure.PaymentDeclined:
      return { reasonCode: 'PAYMENT_DECLINED', reason: failure.message };
    default:
      return err instanceof ActivityFailure ? { reasonCode: 'PROCESSING_FAILED', reason: `Step ${err.activityType} failed: ${failure.message}` } : undefined;
  }
}

/**
 * The order saga: reserve stock → authorize payment → capture → commit stock → confirm.
 * A business failure undoes the finished steps in reverse order and ends the order CANCELLED.
 */
export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderOutcome> {
  const { orderId } = input;
  const saga = new Saga();
  const live: OrderSagaState = { orderId, status: 'PENDING', currentStep: null, completedSteps: [] };
  setHandler(orderStatusQuery, () => ({ ...live, completedSteps: [...live.completedSteps], pendingUndos: saga.pending }));

  let lastEventId: string;
  const { paymentToken, ...order } = input;
  lastEventId = await state.recordOrderPlaced({ order, eventId: uuid4() });

  async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
    live.currentStep = name;
    const result = await run();
    live.completedSteps.push(name);
    live.currentStep = null;
    return result;
  }

  async function transition(t: OrderTransition): Promise<void> {
    lastEventId = await state.recordOrderTransition({ orderId, eventId: uuid4(), causationId: lastEventId, transition: t });
    live.status = t.to;
  }

  try {
    const lines = input.lines.map(({ sku, quantity }) => ({ sku, quantity }));
    saga.register('release-stock', () => undo.releaseStock({ orderId }));
    await step('reserve-stock', () => forward.reserveStock({ orderId, lines }));
    await transition({ to: 'STOCK_RESERVED' });

    saga.register('void-payment', () => undo.voidPayment({ orderId }));
    const auth = await step('authorize-payment', () =>
      forward.authorizePayment({ orderId, amountCents: input.totalCents, currency: input.currency, paymentToken }));
    if (auth.status !== 'AUTHORIZED') {
      // Customer confirmation (3-D Secure) is not supported yet: treat as a decline, undo everything.
      throw ApplicationFailure.create({ message: 'Payment needs customer confirmation, which is not supported yet', type: BusinessFailure.PaymentDeclined, nonRetryable: true });
    }
    await transition({ to: 'PAYMENT_AUTHORIZED', paymentId: auth.paymentId });

    saga.register('refund-payment', () => undo.refundPayment({ orderId }));
    await step('capture-payment', () => forward.capturePayment({ orderId, paymentId: auth.paymentId }));
    await transition({ to: 'PAYMENT_CAPTURED', paymentId: auth.paymentId });

    await step('commit-stock', () => forward.commitStock({ orderId }));
    await transition({ to: 'CONFIRMED' });
    return { orderId, status: 'CONFIRMED' };
  } catch (err) {
    const cancel = cancelReasonOf(err);
    if (!cancel) throw err;
    log.info('order cancelled, undoing finished steps', { orderId, reasonCode: cancel.reasonCode, undos: saga.pending });
    live.currentStep = 'compensating';
    await CancellationScope.nonCancellable(async () => {
      await saga.compensate();
      await transition({ to: 'CANCELLED', ...cancel });
    });
    live.currentStep = null;
    live.reasonCode = cancel.reasonCode;
    live.reason = cancel.reason;
    return { orderId, status: 'CANCELLED', ...cancel };
  }
}
