import { proxyActivities, proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import { boundedRecordStateOptions, forwardStepOptions, pointOfNoReturnOptions } from '../../../workflows/retry-policies';
import type { NoopActivities } from './noop';

/**
 * The benchmark's ceiling: the order saga's happy path (workflows/order.workflow.ts) with every
 * activity a no-op, same timeouts and retry policies, no search attributes or details. Bundled by
 * the bench-only worker; never part of workflows/index.ts.
 */
const ORDER_SHAPE: [step: string, options: ActivityOptions][] = [
  ['record PENDING', boundedRecordStateOptions],
  ['reserve stock', forwardStepOptions],
  ['record STOCK_RESERVED', boundedRecordStateOptions],
  ['authorize payment', forwardStepOptions],
  ['record PAYMENT_AUTHORIZED', boundedRecordStateOptions],
  ['capture payment', forwardStepOptions],
  ['record PAYMENT_CAPTURED', boundedRecordStateOptions],
  ['commit stock', pointOfNoReturnOptions],
  ['record CONFIRMED', boundedRecordStateOptions],
];

export async function orderShapedNoopWorkflow(): Promise<number> {
  for (const [step, options] of ORDER_SHAPE) await proxyActivities<NoopActivities>(options).noop(step);
  return ORDER_SHAPE.length;
}

export async function orderShapedNoopLocalWorkflow(): Promise<number> {
  for (const [step, { startToCloseTimeout, scheduleToCloseTimeout, retry, cancellationType }] of ORDER_SHAPE) {
    await proxyLocalActivities<NoopActivities>({
      ...(startToCloseTimeout ? { startToCloseTimeout } : {}), ...(scheduleToCloseTimeout ? { scheduleToCloseTimeout } : {}),
      ...(retry ? { retry } : {}), ...(cancellationType ? { cancellationType } : {}),
    }).noop(step);
  }
  return ORDER_SHAPE.length;
}
