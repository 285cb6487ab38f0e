import type { WorkflowStartOptions } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CancelReasonCode } from '../events';
import { OrderStatusAttribute } from '../search-attributes';
import type { PricedLine } from './lines';
import type { OrderStatus, TerminalStatus } from './status';

/**
 * The order workflow's contract, in one place: how it is named, identified, started and talked
 * to. Used by the workflow itself, the worker, the API and the tests. Imported by workflow code:
 * keep it free of I/O and of runtime imports of @temporalio/client.
 */

/** The workflow type: the name `workflows/index.ts` exports the workflow under. */
export const ORDER_WORKFLOW_TYPE = 'orderWorkflow';
export type OrderWorkflow = (input: OrderWorkflowInput) => Promise<OrderOutcome>;

/** Task queue of the order workflow and its activities unless TEMPORAL_TASK_QUEUE says otherwise. */
export const TASK_QUEUE_DEFAULT = 'orders';

/** Workflow id derived from the order id: a repeated start can never make a second order. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** The owner of orders placed before API keys existed (the migration's backfill, and inputs without clientId). */
export const LEGACY_CLIENT_ID = 'legacy';

export const DEFAULT_PAYMENT_CONFIRMATION_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * What the workflow is started with. Prices were fixed by the API from inventory's catalog. No
 * personal data and no card token: the API keeps those in the order vault (common/order-vault.ts)
 * and the activities read them by order id, so no Temporal payload carries them.
 */
export interface OrderWorkflowInput {
  orderId: string;
  /** The API client (shop) that placed the order; absent in orders started before API keys ({@link LEGACY_CLIENT_ID}). */
  clientId?: string;
  customerId: string;
  currency: string;
  lines: PricedLine[];
  totalCents: number;
  correlationId: string;
  /** Only in histories of orders placed before the order vault; never set by today's API. */
  customerEmail?: string;
  /** Only in histories of orders placed before the order vault; never set by today's API. */
  paymentToken?: string;
  /** How long to wait for the customer to confirm a payment (3-D Secure). Default 15 minutes. */
  paymentConfirmationTimeoutMs?: number;
  /**
   * A keyed order's request fingerprint (SHA-256 over the request, api/idempotency.ts), recorded
   * with the order: a later request under its key is told apart by the whole body (api/keyed-orders.ts).
   */
  requestHash?: string;
}

export interface OrderOutcome {
  orderId: string;
  status: TerminalStatus;
  reasonCode?: CancelReasonCode;
  reason?: string;
  /**
   * With COMPENSATION_FAILED: what an operator still has to do, in order: the undos that could not
   * finish, or `commit-stock` when the stock commit could not finish (see common/order/status.ts).
   */
  pendingUndos?: string[];
}

/** The live view a running order workflow answers to the `status` query. */
export interface OrderSagaState {
  orderId: string;
  status: OrderStatus;
  currentStep: string | null;
  completedSteps: string[];
  /** Undos that would run if the order were cancelled now, in the order they would run. */
  pendingUndos?: string[];
  reasonCode?: CancelReasonCode;
  reason?: string;
  /** While AWAITING_PAYMENT_CONFIRMATION: when the order is cancelled if the customer does not confirm. */
  paymentConfirmationDeadline?: string;
  /** The customer asked to cancel; the saga is undoing its steps. */
  cancelRequested?: boolean;
}

export const orderStatusQuery = defineQuery<OrderSagaState>('status');

export interface PaymentConfirmation {
  outcome: 'confirmed' | 'failed';
  /** The payment provider's event id, for the history. */
  eventId: string;
}
export const paymentConfirmationSignal = defineSignal<[PaymentConfirmation]>('paymentConfirmation');

export interface CancelOrderResult {
  orderId: string;
  status: OrderOutcome['status'];
  reasonCode?: CancelReasonCode;
  refunded: boolean;
}
/** Customer cancellation. The validator refuses it once the order can no longer be undone. */
export const cancelOrderUpdate = defineUpdate<CancelOrderResult, []>('cancel');

/** Thrown by the cancel update's validator; the caller sees its message as the reason. */
export class CancelRefusedError extends Error {
  override name = 'CancelRefused';
}

/**
 * How an order workflow is started. The workflow id is derived from the order id; a second start
 * for the same id is refused while it runs (conflict policy FAIL) and after it ended (reuse
 * policy REJECT_DUPLICATE), so a repeated start can never run the saga twice.
 */
export function orderWorkflowStartOptions(input: OrderWorkflowInput, taskQueue: string): WorkflowStartOptions<OrderWorkflow> {
  return {
    workflowId: orderWorkflowId(input.orderId),
    taskQueue,
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    // Search attributes are stored and indexed in clear (the payload codec does not reach them):
    // only the status. Not the customer id: a shop may use its customers' email addresses as ids.
    typedSearchAttributes: [{ key: OrderStatusAttribute, value: 'PENDING' }],
    // Shown in the Web UI's list and header; no personal data.
    staticSummary: `Order of ${input.lines.reduce((n, l) => n + l.quantity, 0)} item(s), ${(input.totalCents / 100).toFixed(2)} ${input.currency}`,
  };
}
