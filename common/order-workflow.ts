import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type WorkflowStartOptions } from '@temporalio/client';
import type { orderWorkflow } from '../workflows';
import { orderWorkflowId, type OrderWorkflowInput } from './order';

/**
 * How an order workflow is started, in one place. The workflow id is derived from the order id;
 * a second start for the same id is refused while it runs (conflict policy FAIL) and after it
 * ended (reuse policy REJECT_DUPLICATE), so a repeated start can never run the saga twice.
 */
export function orderWorkflowStartOptions(input: OrderWorkflowInput, taskQueue: string): WorkflowStartOptions<typeof orderWorkflow> {
  return {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  };
}
