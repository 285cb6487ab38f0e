import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type WorkflowStartOptions } from '@temporalio/client';
import type { orderWorkflow } from '../workflows';
import { orderWorkflowId, type OrderWorkflowInput } from './order';
import { CustomerIdAttribute, OrderStatusAttribute } from './search-attributes';

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
    typedSearchAttributes: [
      { key: CustomerIdAttribute, value: input.customerId },
      { key: OrderStatusAttribute, value: 'PENDING' },
    ],
    // Shown in the Web UI's list and header; no personal data.
    staticSummary: `Order of ${input.lines.reduce((n, l) => n + l.quantity, 0)} item(s), ${(input.totalCents / 100).toFixed(2)} ${input.currency}`,
  };
}
