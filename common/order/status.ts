import type { CancelReasonCode, EventPayload, EventType } from '../events';
import type { OrderOutcome, OrderSagaState } from './workflow-contract';

/**
 * The order's status model, in one place: its statuses, the moves between them, the event each
 * move writes, the saga's steps and when a customer may still cancel. Pure data and functions
 * (type-only imports), so the workflow bundle, the activities, the API and the read models can
 * all use it.
 */

/**
 * Order statuses in the order an order moves through them (every allowed move goes forward in
 * this list; the endings come last). Mirrored by the OrderStatus enum in prisma/schema.prisma.
 */
export const orderStatuses = ['PENDING', 'STOCK_RESERVED', 'AWAITING_PAYMENT_CONFIRMATION', 'PAYMENT_AUTHORIZED', 'PAYMENT_CAPTURED', 'CONFIRMED', 'CANCELLED', 'COMPENSATION_FAILED'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

const failed = ['CANCELLED', 'COMPENSATION_FAILED'] as const;
/** Where an order may go from each status. */
const allowedTransitions = {
  PENDING: ['STOCK_RESERVED', ...failed],
  STOCK_RESERVED: ['PAYMENT_AUTHORIZED', 'AWAITING_PAYMENT_CONFIRMATION', ...failed],
  AWAITING_PAYMENT_CONFIRMATION: ['PAYMENT_AUTHORIZED', ...failed],
  PAYMENT_AUTHORIZED: ['PAYMENT_CAPTURED', ...failed],
  PAYMENT_CAPTURED: ['CONFIRMED', ...failed],
  CONFIRMED: [],
  CANCELLED: [],
  COMPENSATION_FAILED: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return (allowedTransitions[from] as readonly OrderStatus[]).includes(to);
}

/**
 * Statuses the saga never leaves (no move out). COMPENSATION_FAILED waits for an operator: the
 * saga could bring the order neither to CONFIRMED nor to a clean CANCELLED, and its pendingUndos
 * say what is left to do, in order: the undos that could not finish (release-stock, void-payment,
 * refund-payment), or, when the stock commit could not finish past the point of no return,
 * `commit-stock` (the payment is captured and nothing was undone: finish the commit).
 */
export type TerminalStatus = { [S in OrderStatus]: (typeof allowedTransitions)[S] extends readonly [] ? S : never }[OrderStatus];
export const terminalStatuses: ReadonlySet<OrderStatus> = new Set(orderStatuses.filter((s) => allowedTransitions[s].length === 0));

/** A move of the order to a new status, with what its event needs to say. */
export type OrderTransition =
  | { to: 'STOCK_RESERVED' }
  | { to: 'AWAITING_PAYMENT_CONFIRMATION'; paymentId: string; deadline: string }
  | { to: 'PAYMENT_AUTHORIZED'; paymentId: string }
  | { to: 'PAYMENT_CAPTURED'; paymentId: string }
  | { to: 'CONFIRMED' }
  | { to: 'CANCELLED'; reasonCode: CancelReasonCode; reason: string; refundedCents?: number }
  | { to: 'COMPENSATION_FAILED'; reasonCode: CancelReasonCode; reason: string; pendingUndos: string[] };

/** The event that records an order reaching each status (PENDING: when it is placed). */
export const statusEvents = {
  PENDING: 'OrderPlaced',
  STOCK_RESERVED: 'StockReserved',
  AWAITING_PAYMENT_CONFIRMATION: 'PaymentConfirmationRequested',
  PAYMENT_AUTHORIZED: 'PaymentAuthorized',
  PAYMENT_CAPTURED: 'PaymentCaptured',
  CONFIRMED: 'OrderConfirmed',
  CANCELLED: 'OrderCancelled',
  COMPENSATION_FAILED: 'OrderCompensationFailed',
} as const satisfies Record<OrderStatus, EventType>;

/** What an event about a transition needs to know of the order (a plain object, e.g. its database row). */
export interface OrderFacts {
  customerId: string;
  currency: string;
  totalCents: number;
  lines: readonly { sku: string; quantity: number }[];
}

function event<T extends EventType>(type: T, payload: EventPayload<T>): { type: T; payload: EventPayload<T> } {
  return { type, payload };
}

/** The event a transition writes, built from the order and the transition. */
export function eventFor(order: OrderFacts, t: OrderTransition): { type: EventType; payload: EventPayload<EventType> } {
  switch (t.to) {
    case 'STOCK_RESERVED':
      return event(statusEvents[t.to], { lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) });
    case 'AWAITING_PAYMENT_CONFIRMATION':
      return event(statusEvents[t.to], { paymentId: t.paymentId, deadline: t.deadline });
    case 'PAYMENT_AUTHORIZED':
      return event(statusEvents[t.to], { paymentId: t.paymentId, amountCents: order.totalCents, currency: order.currency });
    case 'PAYMENT_CAPTURED':
      return event(statusEvents[t.to], { paymentId: t.paymentId, amountCents: order.totalCents, currency: order.currency });
    case 'CONFIRMED':
      return event(statusEvents[t.to], { customerId: order.customerId, currency: order.currency, totalCents: order.totalCents });
    case 'CANCELLED':
      return event(statusEvents[t.to], {
        customerId: order.customerId, currency: order.currency, totalCents: order.totalCents,
        reasonCode: t.reasonCode, reason: t.reason, ...(t.refundedCents ? { refundedCents: t.refundedCents } : {}),
      });
    case 'COMPENSATION_FAILED':
      return event(statusEvents[t.to], { reasonCode: t.reasonCode, reason: t.reason, pendingUndos: t.pendingUndos });
  }
}

/**
 * The saga's forward steps, in the order they run (await-payment-confirmation only when the
 * payment provider asks the customer to confirm). Shown as the live state's current/completed steps.
 */
export const sagaSteps = ['reserve-stock', 'authorize-payment', 'await-payment-confirmation', 'capture-payment', 'commit-stock'] as const;
export type SagaStep = (typeof sagaSteps)[number];

/** The undo of each step that changes something at a peer, registered before the step runs. */
export const undoOf = {
  'reserve-stock': 'release-stock',
  'authorize-payment': 'void-payment',
  'capture-payment': 'refund-payment',
} as const satisfies Partial<Record<SagaStep, string>>;
export type UndoableStep = keyof typeof undoOf;

/** The saga's current step while it undoes its finished steps. */
export const COMPENSATING = 'compensating';

/**
 * From this step on the order can no longer be undone: nobody may cancel it (customer or operator),
 * the step is retried until it finishes and never compensated, and the order ends CONFIRMED (or,
 * if the commit cannot finish, COMPENSATION_FAILED with this step as what is left to do).
 */
export const POINT_OF_NO_RETURN = 'commit-stock' satisfies SagaStep;

/**
 * Whether a customer's cancel can still be accepted, as the cancel update's validator asks it.
 * Returns the reason to refuse, or undefined to accept.
 * - Accepted while the saga can still be undone: any time before the stock is committed.
 * - Accepted again (same answer) once the customer's cancel is under way or done.
 * - Refused once the order is being confirmed (stock commit started) or has ended otherwise,
 *   and while the saga is already undoing its steps for another reason.
 */
export function cancelRefusal(state: Pick<OrderSagaState, 'currentStep' | 'completedSteps' | 'cancelRequested'>, outcome: OrderOutcome | undefined): string | undefined {
  if (state.cancelRequested) return undefined;
  if (outcome) return `Order is ${outcome.status} and can no longer be cancelled`;
  // Also after the commit, while CONFIRMED is being recorded: there is no current step then.
  if (state.currentStep === POINT_OF_NO_RETURN || state.completedSteps.includes(POINT_OF_NO_RETURN)) return 'Order is being confirmed and can no longer be cancelled';
  if (state.currentStep === COMPENSATING) return 'Order is already being cancelled and can no longer be cancelled by the customer';
  return undefined;
}
