import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
} from '@temporalio/workflow';
import {
  cancelRefusal, COMPENSATING, POINT_OF_NO_RETURN, undoOf, type OrderStatus, type OrderTransition, type SagaStep, type UndoableStep,
} from '../common/order/status';
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
import type { AuthorizeResult } from '../activities/payment';
import { forwardStepOptions, pointOfNoReturnOptions } from './retry-policies';
import { cancelReasonOf, CancelOrder, changes, customerCancelled, operatorCancelled, processingFailedReason, type CancelReason } from './cancel-reasons';
import { activities } from './order-activities';
import { OrderSteps } from './order-steps';
import { StateRecorder, stateNotRecorded } from './state-recording';
import { OperatorView } from './operator-view';
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
  /** For operators only (the Web UI's current details; also logged): why the order needs them. Never in the row or an event. */
  private operatorNote: string | undefined;
  /** Since change localFirst: activities run local first, and what goes with it (cancel-reasons.ts). */
  private localFirstSteps = false;
  /** Since change fusedRecords: each forward step's local attempt also records its transition. */
  private fusedRecords = false;
  private view!: OperatorView;
  private state!: StateRecorder;
  private steps!: OrderSteps;

  constructor(private readonly input: OrderWorkflowInput) {
    this.live = { orderId: input.orderId, status: 'PENDING', currentStep: null, completedSteps: [] };
  }

  /** The whole saga at a glance; a cancel or failure in any forward step lands in undoAndClose, the commit and confirmation come after. */
  async run(): Promise<OrderOutcome> {
    // A change implies the ones before it, whose patched() calls it skips: each call records a
    // marker and a TemporalChangeVersion search-attribute upsert in every new order's history.
    this.fusedRecords = patched(changes.fusedRecords);
    this.localFirstSteps = this.fusedRecords || patched(changes.localFirst);
    this.view = new OperatorView(this.localFirstSteps);
    this.steps = new OrderSteps(this.input.orderId, this.localFirstSteps);
    this.state = new StateRecorder(this.localFirstSteps, (to, err) => this.stateNotRecorded(to, err));
    this.handleQueriesSignalsAndUpdates();
    await this.placeOrder();
    try {
      await this.forwardScope.run(async () => {
        await this.reserveStock();
        const { payment, recordedAs } = await this.authorizePayment();
        if (payment.status === 'REQUIRES_CONFIRMATION') await this.awaitPaymentConfirmation(payment.paymentId);
        await this.transition({ to: 'PAYMENT_AUTHORIZED', paymentId: payment.paymentId }, recordedAs);
        await this.capturePayment(payment.paymentId);
      });
      // A cancel accepted as the last forward step finished still wins: it refunds the capture.
      if (this.live.cancelRequested) throw new CancelOrder(customerCancelled);
      if (this.operatorCancelled()) throw new CancelOrder(operatorCancelled);
      // Past this point the order can no longer be cancelled (the cancel validator refuses it).
      if (!this.localFirstSteps && !patched(changes.commitNoReturn)) {
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
      if (cancel.reasonCode === customerCancelled.reasonCode || cancel.reasonCode === operatorCancelled.reasonCode) this.undoStepsALostTaskMayHaveRun();
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
      return { orderId: this.input.orderId, status: this.outcome!.status, reasonCode: this.outcome!.reasonCode, refunded: this.steps.refunded };
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
    return this.rootScope.consideredCancelled && (this.localFirstSteps || patched(changes.operatorCancel));
  }

  /**
   * Since change localFirst, a cancel may be handled in a workflow task run again after its worker
   * was lost, while that worker's run of it had gone further: local activities are recorded only
   * when their task completes, so reserve, authorize and capture may have happened without the
   * history saying so (never the stock commit: a regular activity). The saga then undoes every
   * step a cancel can still undo, including those it has not started: each undo is safe when its
   * step never happened (the void answers 'nothing', fences the order, and refunds a capture).
   */
  private undoStepsALostTaskMayHaveRun(): void {
    if (!this.localFirstSteps) return;
    const pending = this.undos.pending;
    if (!pending.includes(undoOf['reserve-stock'])) this.undoWith('reserve-stock', () => this.steps.releaseStock());
    if (!pending.includes(undoOf['authorize-payment'])) this.undoWith('authorize-payment', () => this.steps.voidPayment());
  }

  /** Records the order (PENDING) and its OrderPlaced event. */
  private async placeOrder(): Promise<void> {
    const { paymentToken, paymentConfirmationTimeoutMs, ...order } = this.input;
    await this.state.placed(order);
    this.show();
  }

  private async reserveStock(): Promise<void> {
    const { orderId } = this.input;
    const lines = this.input.lines.map(({ sku, quantity }) => ({ sku, quantity }));
    this.undoWith('reserve-stock', () => this.steps.releaseStock());
    if (!this.fusedRecords) {
      await this.step('reserve-stock', () => this.steps.run('Reserve stock', forwardStepOptions, 'reserveStock', { orderId, lines }));
      return this.transition({ to: 'STOCK_RESERVED' });
    }
    const recordedAs = await this.step('reserve-stock', () => this.steps.reserveStockRecorded({ orderId, lines }, this.state.requestFor(orderId, 'STOCK_RESERVED')));
    await this.transition({ to: 'STOCK_RESERVED' }, recordedAs);
  }

  /**
   * Asks for the payment; the answer says whether the customer must confirm it (3-D Secure).
   * `recordedAs`: the event id when the step also recorded PAYMENT_AUTHORIZED (change fusedRecords).
   */
  private async authorizePayment(): Promise<{ payment: AuthorizeResult; recordedAs?: string }> {
    const { orderId, totalCents, currency, paymentToken } = this.input;
    this.undoWith('authorize-payment', () => this.steps.voidPayment());
    const request = { orderId, amountCents: totalCents, currency, paymentToken };
    if (!this.fusedRecords) return { payment: await this.step('authorize-payment', () => this.steps.run('Authorize payment', forwardStepOptions, 'authorizePayment', request)) };
    const { payment, eventId } = await this.step('authorize-payment', () => this.steps.authorizePaymentRecorded(request, this.state.requestFor(orderId, 'PAYMENT_AUTHORIZED')));
    return { payment, recordedAs: eventId };
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
    this.undoWith('capture-payment', () => this.steps.refundPayment());
    if (!this.fusedRecords) {
      await this.step('capture-payment', () => this.steps.run('Capture payment', forwardStepOptions, 'capturePayment', { orderId, paymentId }));
      return this.transition({ to: 'PAYMENT_CAPTURED', paymentId });
    }
    const recordedAs = await this.step('capture-payment', () => this.steps.capturePaymentRecorded({ orderId, paymentId }, this.state.requestFor(orderId, 'PAYMENT_CAPTURED')));
    await this.transition({ to: 'PAYMENT_CAPTURED', paymentId }, recordedAs);
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
    await this.transition({ to: 'CANCELLED', ...cancel, ...(this.steps.refunded ? { refundedCents: this.input.totalCents } : {}) });
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

  /** Moves the order to a new status and writes its event (state-recording.ts), unless the step that caused it did (`recordedAs`). */
  private async transition(t: OrderTransition, recordedAs?: string): Promise<void> {
    await this.state.moved(this.input.orderId, t, recordedAs);
    this.live.status = t.to;
    this.show();
  }

  /**
   * A state change could not be recorded within STATE_RECORDING_BUDGET: OrderStateNotRecorded.
   * Before the point of no return the saga then undoes its steps and tries to record CANCELLED;
   * any other such failure fails the workflow, visibly, for an operator.
   */
  private stateNotRecorded(to: OrderStatus, err: unknown): ApplicationFailure {
    const { failure, operatorNote } = stateNotRecorded(to, err, this.live, this.undos.pending);
    this.operatorNote = operatorNote;
    this.show();
    return failure;
  }

  /** Keeps the OrderStatus search attribute and the Web UI's current details up to date. */
  private show(): void {
    this.view.show({ live: this.live, pendingUndos: this.undos.pending, operatorNote: this.operatorNote });
  }
}
