import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import { boundedRecordStateOptions, forwardStepOptions, recordStateOptions } from './retry-policies';

/** Activity proxies; the summary shows next to each activity in the Web UI. */
export function activities(summary: string, options: ActivityOptions = forwardStepOptions) {
  return proxyActivities<OrderActivities>({ ...options, summary });
}
/** State writes as they ran before the bounded-recording change: retried for ever. */
export const record = proxyActivities<OrderActivities>({ ...recordStateOptions, summary: 'Record order state and event' });
/** State writes: retried for STATE_RECORDING_BUDGET, then the workflow fails visibly. */
export const recordBounded = proxyActivities<OrderActivities>({ ...boundedRecordStateOptions, summary: 'Record order state and event' });
