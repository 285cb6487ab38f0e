import { RetryState } from '@temporalio/common';
import {
  ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, proxyLocalActivities, TemporalFailure, TimeoutFailure,
  type ActivityInterfaceFor, type ActivityOptions,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import { afterLocalAttempt, boundedRecordStateOptions, forwardStepOptions, localAttemptOptions, recordStateOptions } from './retry-policies';

export type Activities = ActivityInterfaceFor<OrderActivities>;
export type ActivityName = keyof OrderActivities;
export type ResultOf<K extends ActivityName> = Awaited<ReturnType<OrderActivities[K]>>;

/** Activity proxies; the summary shows next to each activity in the Web UI. */
export function activities(summary: string, options: ActivityOptions = forwardStepOptions): Activities {
  return proxyActivities<OrderActivities>({ ...options, summary });
}
/** State writes as they ran before the bounded-recording change: retried for ever. */
export const record = proxyActivities<OrderActivities>({ ...recordStateOptions, summary: 'Record order state and event' });
/** State writes: retried for STATE_RECORDING_BUDGET, then the workflow fails visibly. */
export const recordBounded = proxyActivities<OrderActivities>({ ...boundedRecordStateOptions, summary: 'Record order state and event' });

/** Calls activity `name` through a proxy (regular or local). */
export function call<K extends ActivityName>(proxy: Activities, name: K, args: Parameters<OrderActivities[K]>): Promise<ResultOf<K>> {
  return (proxy[name] as (...a: unknown[]) => Promise<ResultOf<K>>)(...args);
}

/**
 * Runs an activity local first (retry-policies.ts, localAttemptOptions): one local attempt; if it
 * timed out or failed in a way worth retrying, the regular activity takes over with `options`
 * (less the attempt made: afterLocalAttempt). A business outcome or a contract violation
 * (non-retryable) and a cancellation are not retried: they reach the caller as the regular
 * activity's would, as an ActivityFailure.
 */
export async function localFirst<K extends ActivityName>(summary: string, options: ActivityOptions, name: K, ...args: Parameters<OrderActivities[K]>): Promise<ResultOf<K>> {
  return localAttemptOr(summary, name, args, name, () => call(activities(summary, afterLocalAttempt(options)), name, args));
}

/**
 * One local attempt of activity `name` (localAttemptOptions); if it timed out or failed in a way
 * worth retrying, `fallback` takes over. Its failures read as those of activity `stepName`.
 */
export async function localAttemptOr<K extends ActivityName, T>(
  summary: string, name: K, args: Parameters<OrderActivities[K]>, stepName: ActivityName, fallback: () => Promise<T>,
): Promise<ResultOf<K> | T> {
  try {
    return await call(proxyLocalActivities<OrderActivities>({ ...localAttemptOptions, summary }), name, args);
  } catch (err) {
    const failure = asActivityFailure(err, stepName);
    if (!(failure instanceof ActivityFailure) || failure.retryState === RetryState.NON_RETRYABLE_FAILURE) throw failure;
    return fallback();
  }
}

/**
 * A local activity's failure reaches the workflow as its cause alone (SDK core does not wrap it in
 * an ActivityFailure as it does a regular activity's): wrapped here, so the saga reads both alike
 * (cancel-reasons.ts). Cancellations stay as they are.
 */
function asActivityFailure(err: unknown, activityType: string): unknown {
  if (err instanceof ActivityFailure || isCancellation(err) || !(err instanceof TemporalFailure)) return err;
  const retryState = err instanceof ApplicationFailure && err.nonRetryable ? RetryState.NON_RETRYABLE_FAILURE
    : err instanceof TimeoutFailure ? RetryState.TIMEOUT : RetryState.MAXIMUM_ATTEMPTS_REACHED;
  return new ActivityFailure('Local activity failed', activityType, undefined, retryState, undefined, err);
}
