import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

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
 *
 * Local first (since change `local-first-steps`, see localAttemptOptions): the state changes, the
 * forward peer calls and the undos first run once as a local activity; the schedules above then
 * apply to the regular activity that takes over a local attempt that failed or was too slow.
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

/**
 * One local attempt (since change `local-first-steps`): the activity runs in the worker that runs
 * the saga, with no server round trip; its result is recorded (a marker) when the workflow task
 * completes, so an order that meets no fault runs its whole saga in one or two workflow tasks.
 * Only one attempt, and a short one, then the regular activity with the schedules above takes over:
 *
 * - While local activities run, the workflow task stays open, and a cancel (update), an operator's
 *   cancel, a signal or the live-state query (GET /orders/{id}) waits for it. One attempt of at
 *   most LOCAL_ATTEMPT_TIMEOUT keeps that wait short; a slow or failing peer is then waited for in
 *   a regular activity, where a cancel is accepted at once and waits for the step to finish
 *   (WAIT_CANCELLATION_COMPLETED), as before.
 * - Local retries would not keep our budgets: a local activity's schedule-to-close is measured on
 *   the worker's clock from the time the workflow task scheduled it, and retries within
 *   localRetryThreshold are lost with the worker. The regular activity's timeouts
 *   (STATE_RECORDING_BUDGET, 24 h for undos) are kept by the server, and its attempts and last
 *   failure show in the Web UI as a pending activity. Local activities show there only as markers
 *   (with their summary) once they ended.
 * - A local attempt that timed out may still land (like a regular attempt that timed out): the
 *   idempotency keys and the payment service's fence (activities/) make the regular retry safe.
 *
 * Kept regular: the stock commit (commitStock). It is the point of no return, and a local
 * activity is recorded only after it ran: a worker lost in between would leave a committed order
 * whose history does not say so, and a cancel admitted meanwhile would undo the payment of a
 * confirmed order. Its scheduled event is the durable record that the saga passed that point.
 * Also regular: the wait for the customer's payment confirmation is a timer and a signal, never an activity.
 */
export const LOCAL_ATTEMPT_TIMEOUT = '1s';
export const localAttemptOptions: LocalActivityOptions = {
  startToCloseTimeout: LOCAL_ATTEMPT_TIMEOUT,
  retry: { maximumAttempts: 1 },
  // Local activities support it too: a cancel delivered while one runs waits for its real outcome.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/**
 * The regular activity that takes over after a local attempt: a forward step keeps its 20 attempts
 * in all; the others keep their time budgets (counted from the regular activity's start).
 */
export function afterLocalAttempt(options: ActivityOptions): ActivityOptions {
  const attempts = options.retry?.maximumAttempts;
  return attempts ? { ...options, retry: { ...options.retry, maximumAttempts: attempts - 1 } } : options;
}
