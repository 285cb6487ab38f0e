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
 * State changes (the order's row and event): retried for up to an hour (STATE_RECORDING_BUDGET),
 * then the workflow fails visibly (OrderStateNotRecorded) for an operator.
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

/**
 * Recording a state change (the order's row and its event, in Postgres): as it was before the
 * bounded-recording change, retried for ever. Only executions that started before that change
 * still use it.
 */
export const recordStateOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * How long the saga keeps trying to record a state change. Long enough for a Postgres restart,
 * failover or short outage; after that the workflow fails visibly (OrderStateNotRecorded) for an
 * operator instead of spinning silently for ever.
 */
export const STATE_RECORDING_BUDGET = '1h';

/** Recording a state change: backoff capped at 1 min, for at most STATE_RECORDING_BUDGET. */
export const boundedRecordStateOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: STATE_RECORDING_BUDGET,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
};
