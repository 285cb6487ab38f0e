import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import type { CancelReasonCode } from '../common/events';
import { BusinessFailure, STATE_NOT_RECORDED_FAILURE } from '../common/failures';

/**
 * Changes to what the workflow does, each behind `patched(id)` so that histories recorded by older
 * code still replay (README, "Changing the workflow safely").
 */
export const changes = {
  /** A workflow cancellation (Web UI, CLI) undoes everything like a customer's cancel; state writes run to the end. */
  operatorCancel: 'operator-cancel-compensates',
  /** The stock commit is past the point of no return: retried like an undo, never compensated, shielded from cancels. */
  commitNoReturn: 'commit-stock-point-of-no-return',
  /** State writes are retried for a bounded time; then the workflow fails visibly (OrderStateNotRecorded). */
  boundedRecording: 'bounded-state-recording',
  /** PROCESSING_FAILED tells the customer a stable, safe reason; the failure's text goes to operators only. */
  safeReason: 'safe-processing-failed-reason',
  /**
   * Fewer server round trips: state changes, forward peer calls and undos run local first (one
   * local attempt, then the regular activity: retry-policies.ts); the stock commit stays regular.
   * Each status's event id is drawn up front; a customer's or operator's cancel also undoes the
   * payment when its step had not started (a lost workflow task may have run it); OrderStatus is
   * upserted and the current details set only when they change. Implies the first three changes
   * above (their patched() calls are skipped: fewer markers in the history).
   */
  localFirst: 'local-first-steps',
  /**
   * The local attempt of each forward step (reserve, authorize without 3-D Secure, capture) also
   * records the transition it causes, in one local activity (activities/recorded-steps.ts); a
   * failed attempt falls back to the step and the record apart. Implies localFirst (its patched()
   * call is skipped).
   */
  fusedRecords: 'fused-step-records',
} as const;

export type CancelReason = { reasonCode: CancelReasonCode; reason: string };

/** What the customer is told when processing failed (the details are for operators: workflow log and current details). */
export const processingFailedReason = 'We could not process your order';

/**
 * Why a failed step cancels the order. Business outcomes carry their own reason; a step that
 * failed for good otherwise (retries exhausted, a peer breaking its contract) also cancels the
 * order, with everything undone, so that no order is left half-done. Its reason is the stable
 * `processingFailedReason`: the reason goes into the order's row, GET /orders/{id}, the
 * OrderCancelled event and the customer's email, and a failure's text may hold anything (a peer's
 * answer, internal names). That text is returned as `detail`, for operators only.
 */
export function cancelReasonOf(err: unknown): (CancelReason & { detail?: string }) | undefined {
  // A forward state change that could not be recorded: undo the steps, then try to record CANCELLED.
  if (err instanceof ApplicationFailure && err.type === STATE_NOT_RECORDED_FAILURE) return { reasonCode: 'PROCESSING_FAILED', reason: processingFailedReason };
  if (!(err instanceof ActivityFailure)) return undefined;
  const failure = err.cause;
  if (failure instanceof ApplicationFailure) {
    if (failure.type === BusinessFailure.OutOfStock || failure.type === BusinessFailure.UnknownSku) return { reasonCode: 'OUT_OF_STOCK', reason: failure.message };
    if (failure.type === BusinessFailure.PaymentDeclined) return { reasonCode: 'PAYMENT_DECLINED', reason: failure.message };
  }
  const detail = `Step ${err.activityType} failed: ${failure?.message ?? err.message}`;
  if (!patched(changes.safeReason)) return { reasonCode: 'PROCESSING_FAILED', reason: detail }; // before the change: told to the customer
  return { reasonCode: 'PROCESSING_FAILED', reason: processingFailedReason, detail };
}

/** Raised inside the workflow when the saga itself decides to cancel the order, with why. */
export class CancelOrder extends Error {
  constructor(readonly cancel: CancelReason) {
    super(cancel.reason);
  }
}
export const customerCancelled: CancelReason = { reasonCode: 'CUSTOMER_CANCELLED', reason: 'Cancelled at the customer\'s request' };
export const operatorCancelled: CancelReason = { reasonCode: 'OPERATOR_CANCELLED', reason: 'Cancelled by our customer service' };
