import type { OrderSagaState } from '../order/workflow-contract';

/**
 * One order seen from everywhere it leaves a trace: the shape of `npm run ops -- inspect` (as
 * JSON with --json) and of `GET /operator/orders/{orderId}/inspection`. Gathered by
 * common/inspection/inspect-order.ts; diagnosed by the pure rules of common/inspection/diagnosis.ts.
 * Carries no personal data: no email address, no card token (operators read ids and states).
 * Times are ISO 8601 strings, so the JSON and the snapshots of the unit tests look alike.
 */

/** A part that could not be read, and why (the rest of the inspection still stands). */
export interface Unreadable {
  unreadable: string;
}

export type Readout<T> = T | Unreadable;

export function isUnreadable<T>(part: Readout<T>): part is Unreadable {
  return typeof part === 'object' && part !== null && 'unreadable' in part;
}

export interface OrderRowView {
  status: string;
  clientId: string;
  customerId: string;
  totalCents: number;
  currency: string;
  cancelReasonCode: string | null;
  pendingUndos: string[];
  correlationId: string;
  createdAt: string;
  updatedAt: string;
}

/** A status change of the order, as its outbox event recorded it (each change writes one, in its transaction). */
export interface TransitionView {
  event: string;
  at: string;
}

export interface OutboxView {
  eventId: string;
  type: string;
  sequence: string;
  occurredAt: string;
  publishedAt: string | null;
  /** Seconds from the write to the publish; for an unpublished row, until the inspection. */
  lagSeconds: number;
}

export interface PendingActivityView {
  activityType: string;
  /** SCHEDULED (waiting for a worker), STARTED (running on one), CANCEL_REQUESTED, PAUSED. */
  state: string;
  attempt: number;
  maximumAttempts: number | null;
  scheduledAt: string | null;
  lastStartedAt: string | null;
  nextAttemptAt: string | null;
  /** The last attempt's failure, decoded through our data converter (messages are encrypted in the history). */
  lastFailure: { type: string | null; message: string } | null;
}

export interface TimerView {
  timerId: string;
  firesAt: string;
}

export interface WorkflowView {
  workflowId: string;
  runId: string;
  /** RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  startedAt: string;
  closedAt: string | null;
  /** The search attribute OrderStatus the workflow keeps current. */
  searchAttributeStatus: string | null;
  /** A workflow task waiting for a worker (state SCHEDULED) or being run (STARTED). */
  pendingWorkflowTask: { state: string; scheduledAt: string | null; attempt: number } | null;
  pendingActivities: PendingActivityView[];
  timers: TimerView[];
  /** When TERMINATED: who did it and why (from the history). */
  termination: { reason: string; identity: string } | null;
  /** When FAILED: the failure, decoded. */
  failure: { type: string | null; message: string } | null;
  /** The live state from the `status` query, or why it could not be asked (no worker, closed…). */
  liveState: Readout<OrderSagaState>;
}

export interface StreamMessageView {
  eventId: string;
  type: string;
  streamSeq: number;
  publishedAt: string;
  /** Per consumer of this type: whether its durable has acknowledged the message. */
  acknowledgedBy: Record<string, boolean>;
}

export interface ConsumerInboxView {
  consumer: string;
  eventId: string;
  type: string;
  handled: boolean;
  handledAt: string | null;
}

export interface DeadLetterView {
  seq: number;
  consumer: string;
  eventType: string;
  failedAt: string;
  deliveries: number;
  reason: string;
}

export interface SentEmailView {
  eventId: string;
  subject: string;
  status: string;
  attempts: number;
  sentAt: string;
}

export interface StreamView {
  stream: string;
  messages: StreamMessageView[];
  /** Published events whose message was not found (scan bound reached, or removed by retention). */
  notFound: string[];
}

export interface OrderInspection {
  orderId: string;
  inspectedAt: string;
  /** Null: no row (never recorded, or an unknown id). */
  order: OrderRowView | null;
  transitions: TransitionView[];
  workflow: Readout<WorkflowView | null>;
  outbox: OutboxView[];
  stream: Readout<StreamView>;
  inboxes: ConsumerInboxView[];
  deadLetters: Readout<DeadLetterView[]>;
  emails: SentEmailView[];
  /** The payment service's record of the order (GET /payments?orderId=). */
  payment: Readout<PaymentRecordView | null>;
  /** The inventory service's reservation of the order (GET /reservations/{orderId}); null: none. */
  inventory: Readout<ReservationRecordView | null>;
  diagnosis: Diagnosis;
}

export interface PaymentRecordView {
  paymentId: string;
  status: string;
  amountCents: number;
  currency: string;
  operations: { kind: string; outcome: string; at: string }[];
}

export interface ReservationRecordView {
  status: string;
  lines: { sku: string; quantity: number }[];
}

/** The one-line answer to "why is this order where it is?", and the rule that gave it. */
export interface Diagnosis {
  rule: string;
  text: string;
}
