import { z } from 'zod';
import type { CancelReasonCode } from './events';
import type { OrderStatus, TerminalStatus } from './order/status';

export interface PricedLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** What the workflow is started with. Prices were fixed by the API from inventory's catalog. */
export interface OrderWorkflowInput {
  orderId: string;
  customerId: string;
  customerEmail: string;
  currency: string;
  lines: PricedLine[];
  totalCents: number;
  paymentToken: string;
  correlationId: string;
  /** How long to wait for the customer to confirm a payment (3-D Secure). Default 15 minutes. */
  paymentConfirmationTimeoutMs?: number;
}

export interface OrderOutcome {
  orderId: string;
  status: TerminalStatus;
  reasonCode?: CancelReasonCode;
  reason?: string;
  /** With COMPENSATION_FAILED: the undos an operator still has to do, in order. */
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

export const TASK_QUEUE_DEFAULT = 'orders';

/** Workflow id derived from the order id: a repeated start can never make a second order. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

export const orderIdSchema = z.string().uuid();

export function totalOf(lines: PricedLine[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
}
