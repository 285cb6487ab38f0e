import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

/**
 * Every retry schedule of the saga, in one place.
 *
 * Forward steps: 1s, 2s, 4s, ... capped at 1 min between attempts, 20 attempts (about 15 min),
 * then the step fails and the order is cancelled with everything undone. Business outcomes
 * (out of stock, declined) are raised as non-retryable and never retried.
 *
 * Undo steps: same backoff, capped at 5 min, retried for up to 24 hours: an undo moves money or
 * stock back and should not give up on a peer that is down for a while. After that the order
 * ends COMPENSATION_FAILED with the undos still to do, for an operator.
 *
 * The stock commit, past the point of no return: retried like an undo (24 hours), never
 * compensated. If it still cannot finish, the order ends COMPENSATION_FAILED with commit-stock
 * still to do, for an operator.
 */
export const forwardStepOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  // On a customer's cancel, wait for an in-flight step to finish before undoing: the undo then
  // sees what the step really did (e.g. a capture that completed is refunded, not voided).
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20 },
};

export const undoStepOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
};

/**
 * The stock commit: once it has started the order is confirmed, so it is never given up after a
 * forward step's 20 attempts (its outcome may even be unknown: a timed-out commit may have
 * happened; the idempotency key makes the retry safe). Run in a scope no cancel reaches.
 */
export const pointOfNoReturnOptions: ActivityOptions = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
};

export const recordStateOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};
