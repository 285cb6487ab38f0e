import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import { STATE_NOT_RECORDED_FAILURE } from '../common/failures';
import { cancelRefusal, COMPENSATING, POINT_OF_NO_RETURN, undoOf, type OrderStatus, type OrderTransition, type SagaStep, type UndoableStep } from '../common/order/status';
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
import { pointOfNoReturnOptions, STATE_RECORDING_BUDGET, undoStepOptions } from './retry-policies';
import { cancelReasonOf, CancelOrder, changes, customerCancelled, operatorCancelled, processingFailedReason, type CancelReason } from './cancel-reasons';
import { activities, record, recordBounded } from './order-activities';
import { Saga } from './saga';

/**
 * The order workflow (workflow type `orderWorkflow`, see common/order/workflow-contract.ts).
 */
export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderOutcome> {
  return new OrderSaga(input).run();
}

/**
 * The order saga: reserve stock → authorize payment (→ wait for the customer's confirmation) →
 * capture → commit stock → confirm. A business failure, a step failing for good, a missed
 * confirmation deadline or a cancel (the customer's update or an operator's workflow cancellation)
 * undoes the finished steps in reverse order and ends the order CANCELLED; an undo that cannot
 * finish ends it COMPENSATION_FAILED with what is left to do. The stock commit is the point of no
 * return: from there nothing is undone and no cancel reaches the saga. A state change that cannot
 * be recorded within its budget fails the workflow visibly (after undoing, before the commit).
 * Statuses, transitions, step names and the cancel rule come from common/order/status.ts.
 */
export class OrderSaga {
  /** The undos of the steps taken so far. */
  private readonly undos = new Saga();
  private readonly live: OrderSagaState;
  /** The workflow's own scope: cancelled when an operator cancels the workflow (Web UI, CLI, `handle.cancel()`). */
  private readonly rootScope = CancellationScope.current();
  /**
   * The forward steps; a customer's cancel cancels this scope, and so does an operator's (it is a
   * child of the root scope). An in-flight step finishes first.
   */
  private readonly forwardScope = new CancellationScope();
  private confirmation: PaymentConfirmation | undefined;
  private outcome: OrderOutcome | undefined;
  private refunded = false;
  /** For operators only (the Web UI's current details; also logged): why the order needs them. Never in the row or an event. */
  private operatorNote: string | undefined;
  /** The order's latest event: the cause of the next one. */
  private lastEventId!: string;

  constructor(private readonly input: OrderWorkflowInput) {
    this.live = { orderId: input.orderId, status: 'PENDING', currentStep: null, completedSteps: [] };
  }

  /** The whole saga at a glance; a cancel or failure in any forward step lands in undoAndClose, the commit and confirmation come after. */
  async run(): Promise<OrderOutcome> {
    this.handleQueriesSignalsAndUpdates();
    await this.placeOrder();
    try {
      await this.forwardScope.run(async () => {
        await this.reserveStock();
        const payment = await this.authorizePayment();
        if (payment.status === 'REQUIRES_CONFIRMATION') await this.awaitPaymentConfirmation(payment.paymentId);
        await this.transition({ to: 'PAYMENT_AUTHORIZED', paymentId: payment.paymentId });
        await this.capturePayment(payment.paymentId);
      });
      // A cancel accepted as the last forward step finished still wins: it refunds the capture.
      if (this.live.cancelRequested) throw new CancelOrder(customerCancelled);
      if (this.operatorCancelled()) throw new CancelOrder(operatorCancelled);
      // Past this point the order can no longer be cancelled (the cancel validator refuses it).
      if (!patched(changes.commitNoReturn)) {
        // Before the change: a commit that failed for good was compensated (stock released, payment refunded).
        await this.commitStock();
        return await this.confirm();
      }
    } catch (err) {
      const found = err instanceof CancelOrder ? err.cancel
        : this.live.cancelRequested && isCancellation(err) ? customerCancelled
        : isCancellation(err) && this.operatorCancelled() ? operatorCancelled
        : cancelReasonOf(err);
      if (!found) throw err;
      const { detail, ...cancel } = found as CancelReason & { detail?: string };
      if (detail) {
        this.operatorNote = detail;
        log.warn('a step failed for good; cancelling the order', { orderId: this.input.orderId, reasonCode: cancel.reasonCode, detail });
      }
      return await this.undoAndClose(cancel);
    }
    return await this.commitAndConfirm();
  }

  /** The live-state query, the payment confirmation signal and the customer's cancel update. */
  private handleQueriesSignalsAndUpdates(): void {
    setHandler(orderStatusQuery, () => ({ ...this.live, completedSteps: [...this.live.completedSteps], pendingUndos: this.undos.pending }));
    setHandler(paymentConfirmationSignal, (c) => {
      this.confirmation ??= c; // the first answer counts; a redelivered webhook changes nothing
    });
    setHandler(cancelOrderUpdate, async () => {
      this.live.cancelRequested = true;
      this.forwardScope.cancel();
      await condition(() => this.outcome !== undefined);
      return { orderId: this.input.orderId, status: this.outcome!.status, reasonCode: this.outcome!.reasonCode, refunded: this.refunded };
    }, {
      validator: () => {
        const refusal = cancelRefusal(this.live, this.outcome);
        if (refusal) throw new CancelRefusedError(refusal);
      },
    });
  }

  /**
   * Whether an operator cancelled the workflow (Temporal Web UI or CLI: a workflow cancellation, not
   * our cancel update). Such a cancel is handled like a customer's: everything done is undone and the
   * order ends CANCELLED (OPERATOR_CANCELLED). Before this change it ended the workflow with nothing undone.
   */
  private operatorCancelled(): boolean {
    return this.rootScope.consideredCancelled && patched(changes.operatorCancel);
  }

  /** Records the order (PENDING) and its OrderPlaced event. */
  private async placeOrder(): Promise<void> {
    const { paymentToken, paymentConfirmationTimeoutMs, ...order } = this.input;
    const request = { order, eventId: uuid4() };
    this.lastEventId = await this.recordState('PENDING', (rec) => rec.recordOrderPlaced(request));
    this.show();
  }

  private async reserveStock(): Promise<void> {
    const { orderId } = this.input;
    const lines = this.input.lines.map(({ sku, quantity }) => ({ sku, quantity }));
    this.undoWith('reserve-stock', () => activities('Undo: release stock', undoStepOptions).releaseStock({ orderId }));
    await this.step('reserve-stock', () => activities('Reserve stock').reserveStock({ orderId, lines }));
    await this.transition({ to: 'STOCK_RESERVED' });
  }

  /** Asks for the payment; the answer says whether the customer must confirm it (3-D Secure). */
  private async authorizePayment() {
    const { orderId, totalCents, currency, paymentToken } = this.input;
    this.undoWith('authorize-payment', () => activities('Undo: void payment', undoStepOptions).voidPayment({ orderId }));
    return this.step('authorize-payment', () =>
      activities('Authorize payment').authorizePayment({ orderId, amountCents: totalCents, currency, paymentToken }));
  }

  /** Waits for the customer's answer (the payment webhook's signal) until the deadline; cancels the order without one. */
  private async awaitPaymentConfirmation(paymentId: string): Promise<void> {
    const timeoutMs = this.input.paymentConfirmationTimeoutMs ?? DEFAULT_PAYMENT_CONFIRMATION_TIMEOUT_MS;
    const deadline = new Date(Date.now() + timeoutMs).toISOString(); // workflow time: deterministic
    this.live.paymentConfirmationDeadline = deadline;
    await this.transition({ to: 'AWAITING_PAYMENT_CONFIRMATION', paymentId, deadline });
    const answered = await this.step('await-payment-confirmation', () => condition(() => this.confirmation !== undefined, timeoutMs));
    this.live.paymentConfirmationDeadline = undefined;
    if (!answered) throw new CancelOrder({ reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT', reason: 'The customer did not confirm the payment in time' });
    if (this.confirmation!.outcome !== 'confirmed') {
      throw new CancelOrder({ reasonCode: 'PAYMENT_DECLINED', reason: 'Payment declined (customer authentication failed)' });
    }
  }

  private async capturePayment(paymentId: string): Promise<void> {
    const { orderId } = this.input;
    this.undoWith('capture-payment', async () => {
      this.refunded = (await activities('Undo: refund payment', undoStepOptions).refundPayment({ orderId })) === 'refunded';
    });
    await this.step('capture-payment', () => activities('Capture payment').capturePayment({ orderId, paymentId }));
    await this.transition({ to: 'PAYMENT_CAPTURED', paymentId });
  }

  /** The stock commit as it ran before the point-of-no-return change: a forward step, compensated when it failed. */
  private async commitStock(): Promise<void> {
    const { orderId } = this.input;
    await this.step('commit-stock', () => activities('Commit stock').commitStock({ orderId }));
  }

  /**
   * Past the point of no return: commits the stock and confirms the order. Nothing is undone any
   * more (the undos are forgotten) and no cancel reaches these steps, not even an operator's: once
   * the commit has started the order ends CONFIRMED. The commit is retried like an undo (a timed-out
   * commit may have happened; its idempotency key makes the retry safe). If it still cannot finish,
   * the order ends COMPENSATION_FAILED with commit-stock as what is left to do: the payment is
   * captured and the stock still reserved, and an operator commits the reservation by hand (or, if
   * inventory refuses it for good, refunds the payment).
   */
  private async commitAndConfirm(): Promise<OrderOutcome> {
    const { orderId } = this.input;
    const forgotten = this.undos.forget();
    log.info('past the point of no return: committing the stock, nothing is undone any more', { orderId, forgotten });
    return CancellationScope.nonCancellable(async () => {
      try {
        await this.step('commit-stock', () => activities('Commit stock', pointOfNoReturnOptions).commitStock({ orderId }));
      } catch (err) {
        return this.needsOperatorToCommit(err);
      }
      if (this.rootScope.consideredCancelled) log.warn('the workflow was cancelled after the stock commit started; the order is confirmed all the same', { orderId });
      return this.confirm();
    });
  }

  /** The stock commit could not finish: the order ends COMPENSATION_FAILED with commit-stock to do, nothing undone. */
  private async needsOperatorToCommit(err: unknown): Promise<OrderOutcome> {
    const { orderId } = this.input;
    const failure = err instanceof ActivityFailure ? err.cause ?? err : err;
    const pendingUndos: string[] = [POINT_OF_NO_RETURN];
    this.operatorNote = `The stock commit could not finish (${(failure as Error).message}). The payment is captured and the stock `
      + 'still reserved: commit the reservation at inventory by hand; if inventory refuses it for good, refund the payment.';
    log.error('the stock commit could not finish; the order needs an operator', { orderId, pendingUndos, error: (failure as Error).message });
    // currentStep stays commit-stock while COMPENSATION_FAILED is recorded, so a customer's cancel is still refused.
    const cancel: CancelReason = { reasonCode: 'PROCESSING_FAILED', reason: processingFailedReason };
    this.live.reasonCode = cancel.reasonCode;
    this.live.reason = cancel.reason;
    await this.transition({ to: 'COMPENSATION_FAILED', ...cancel, pendingUndos });
    this.outcome = { orderId, status: 'COMPENSATION_FAILED', ...cancel, pendingUndos };
    return this.outcome;
  }

  private async confirm(): Promise<OrderOutcome> {
    await this.transition({ to: 'CONFIRMED' });
    this.outcome = { orderId: this.input.orderId, status: 'CONFIRMED' };
    return this.outcome;
  }

  /** Undoes the finished steps, shielded from the cancel that may have brought us here, and ends the order. */
  private async undoAndClose(cancel: CancelReason): Promise<OrderOutcome> {
    this.outcome = await CancellationScope.nonCancellable(() => this.compensate(cancel));
    return this.outcome;
  }

  /** Runs the registered undos and records the order's end: CANCELLED, or COMPENSATION_FAILED. */
  private async compensate(cancel: CancelReason): Promise<OrderOutcome> {
    const { orderId } = this.input;
    log.info('cancelling order, undoing finished steps', { orderId, reasonCode: cancel.reasonCode, undos: this.undos.pending });
    this.live.reasonCode = cancel.reasonCode;
    this.live.reason = cancel.reason;
    this.live.currentStep = COMPENSATING;
    this.live.paymentConfirmationDeadline = undefined; // no longer waited for (a cancel may have ended the wait)
    this.show();
    try {
      await this.undos.compensate();
    } catch (err) {
      const pendingUndos = this.undos.pending;
      log.error('an undo step could not finish; the order needs an operator', { orderId, pendingUndos, error: (err as Error).message });
      this.live.currentStep = null;
      await this.transition({ to: 'COMPENSATION_FAILED', ...cancel, pendingUndos });
      return { orderId, status: 'COMPENSATION_FAILED', ...cancel, pendingUndos };
    }
    this.live.currentStep = null;
    // Payments are captured in full, so a refund gives back the order's total.
    await this.transition({ to: 'CANCELLED', ...cancel, ...(this.refunded ? { refundedCents: this.input.totalCents } : {}) });
    return { orderId, status: 'CANCELLED', ...cancel };
  }

  /** Registers a step's undo before the step runs: a step that timed out may still have taken effect. */
  private undoWith(step: UndoableStep, undo: () => Promise<unknown>): void {
    this.undos.register(undoOf[step], undo);
  }

  /** Runs one forward step, shown as the current step while it runs. */
  private async step<T>(name: SagaStep, action: () => Promise<T>): Promise<T> {
    this.live.currentStep = name;
    this.show();
    const result = await action();
    this.live.completedSteps.push(name);
    this.live.currentStep = null;
    return result;
  }

  /** Moves the order to a new status and writes its event (activities/order-state.ts). */
  private async transition(t: OrderTransition): Promise<void> {
    const request = { orderId: this.input.orderId, eventId: uuid4(), causationId: this.lastEventId, transition: t };
    this.lastEventId = await this.recordState(t.to, (rec) => rec.recordOrderTransition(request));
    this.live.status = t.to;
    this.show();
  }

  /**
   * Writes a state change. A cancel (customer's or operator's) does not abandon it halfway: an
   * abandoned write could still commit after the saga moved on (e.g. the order row created after
   * the cancel was recorded, or an event chain with a gap), so the saga waits for its answer.
   * A write that cannot be done within STATE_RECORDING_BUDGET throws OrderStateNotRecorded: before
   * the point of no return the saga then undoes its steps and tries to record CANCELLED; any other
   * such failure fails the workflow, visibly, for an operator.
   */
  private async recordState(to: OrderStatus, write: (recorder: typeof record) => Promise<string>): Promise<string> {
    if (!patched(changes.boundedRecording)) {
      return patched(changes.operatorCancel) ? CancellationScope.nonCancellable(() => write(record)) : write(record);
    }
    try {
      return await CancellationScope.nonCancellable(() => write(recordBounded));
    } catch (err) {
      throw this.stateNotRecorded(to, err);
    }
  }

  /** The failure that ends the workflow when a state change could not be recorded, with what an operator needs to know. */
  private stateNotRecorded(to: OrderStatus, err: unknown): ApplicationFailure {
    const { orderId } = this.input;
    const failure = err instanceof ActivityFailure && err.cause ? err.cause : err as Error;
    const row = to === 'PENDING' ? 'the order has no row yet' : `the order's row still says ${this.live.status}`;
    const facts = {
      orderId, notRecorded: to, recordedStatus: to === 'PENDING' ? null : this.live.status, completedSteps: [...this.live.completedSteps],
      pendingUndos: this.undos.pending, budget: STATE_RECORDING_BUDGET, error: failure.message,
    };
    this.operatorNote = `Could not record the move to ${to} (${failure.message}); ${row}. Steps done: ${facts.completedSteps.join(', ') || 'none'}; `
      + `undos still to do: ${facts.pendingUndos.join(', ') || 'none'}.`;
    log.error(`the order's state could not be recorded within ${STATE_RECORDING_BUDGET}`, facts);
    this.show();
    return ApplicationFailure.create({
      type: STATE_NOT_RECORDED_FAILURE, nonRetryable: true, details: [facts], cause: failure,
      message: `Order ${orderId}: could not record its move to ${to} within ${STATE_RECORDING_BUDGET}; ${row}`,
    });
  }

  /** Keeps the OrderStatus search attribute and the Web UI's current details up to date. */
  private show(): void {
    const { live } = this;
    upsertSearchAttributes([{ key: OrderStatusAttribute, value: live.status }]);
    setCurrentDetails([
      `**Status:** ${live.status}`,
      `**Current step:** ${live.currentStep ?? '–'}`,
      `**Done:** ${live.completedSteps.join(', ') || '–'}`,
      `**Would undo:** ${this.undos.pending.join(', ') || '–'}`,
      ...(live.paymentConfirmationDeadline ? [`**Waiting for payment confirmation until:** ${live.paymentConfirmationDeadline}`] : []),
      ...(live.reason ? [`**Reason:** ${live.reason}`] : []),
      ...(this.operatorNote ? [`**For operators:** ${this.operatorNote}`] : []),
    ].join('\n\n'));
  }
}
