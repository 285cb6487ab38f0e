import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OrderSagaState } from '../common/order/workflow-contract';
import { OrderStatusAttribute } from '../common/search-attributes';

/** What the Web UI shows of a running order. */
export interface OrderView {
  live: OrderSagaState;
  pendingUndos: string[];
  /** For operators only: why the order needs them. */
  operatorNote: string | undefined;
}

/**
 * The order as operators see it in the Temporal Web UI and CLI: the OrderStatus search attribute
 * (to filter by) and the current details (status, step, what is done, what would be undone).
 * Before the local-first change both were set on every change of the saga; since then the
 * attribute is upserted only when the status changes (each upsert is a command, an event in the
 * history and a visibility write; the start sets PENDING) and the details only when their text does.
 */
export class OperatorView {
  private status: string | undefined;
  private details: string | undefined;

  constructor(private readonly onlyChanges: boolean) {
    if (onlyChanges) this.status = workflowInfo().typedSearchAttributes.get(OrderStatusAttribute);
  }

  show({ live, pendingUndos, operatorNote }: OrderView): void {
    if (!this.onlyChanges || live.status !== this.status) {
      upsertSearchAttributes([{ key: OrderStatusAttribute, value: live.status }]);
      this.status = live.status;
    }
    const details = [
      `**Status:** ${live.status}`,
      `**Current step:** ${live.currentStep ?? '–'}`,
      `**Done:** ${live.completedSteps.join(', ') || '–'}`,
      `**Would undo:** ${pendingUndos.join(', ') || '–'}`,
      ...(live.paymentConfirmationDeadline ? [`**Waiting for payment confirmation until:** ${live.paymentConfirmationDeadline}`] : []),
      ...(live.reason ? [`**Reason:** ${live.reason}`] : []),
      ...(operatorNote ? [`**For operators:** ${operatorNote}`] : []),
    ].join('\n\n');
    if (!this.onlyChanges || details !== this.details) {
      setCurrentDetails(details);
      this.details = details;
    }
  }
}
