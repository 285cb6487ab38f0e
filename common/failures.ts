/**
 * Failure types that are business outcomes, not crashes. Activities raise them as non-retryable
 * ApplicationFailures of these types; the workflow turns them into a cancelled order with a reason.
 * This file is imported by workflow code: keep it free of I/O and Node APIs.
 */
export const BusinessFailure = {
  OutOfStock: 'OutOfStock',
  UnknownSku: 'UnknownSku',
  PaymentDeclined: 'PaymentDeclined',
  /**
   * The order's stock was released (the order was undone) before this inventory call ran: a
   * reserve that arrived late reserves nothing, a commit commits nothing.
   */
  ReservationReleased: 'ReservationReleased',
} as const;
export type BusinessFailureType = (typeof BusinessFailure)[keyof typeof BusinessFailure];

/** A peer broke its contract (e.g. an answer we do not understand): retrying cannot fix it. */
export const PEER_CONTRACT_FAILURE = 'PeerContractViolation';
/**
 * The payment service refused an authorization or capture because the order's payment had already
 * been undone (its order fence). Only a request that arrives after the saga's undos can meet it.
 */
export const PAYMENT_ORDER_CLOSED_FAILURE = 'PaymentOrderClosed';
/** The order's state machine refused a transition: a bug, never retried. */
export const INVALID_TRANSITION_FAILURE = 'InvalidOrderTransition';
/**
 * Release of stock refused: the order's stock was already committed (it has left), so the order
 * is confirmed and cannot be undone. Never retried; it must not count as a successful release.
 */
export const STOCK_ALREADY_COMMITTED_FAILURE = 'StockAlreadyCommitted';

export const businessFailureTypes: ReadonlySet<string> = new Set(Object.values(BusinessFailure));

/**
 * The order workflow could not record a state change of its order (Postgres refused or was away
 * for the whole recording budget, see workflows/retry-policies.ts): the workflow fails with this
 * type, so that an operator sees it, instead of retrying silently for ever.
 */
export const STATE_NOT_RECORDED_FAILURE = 'OrderStateNotRecorded';

/**
 * A secret a step needs (the customer's email, the card token) is not in the order vault any more
 * (common/order-vault.ts): the order ended, or its data was swept or erased. Never retried.
 */
export const ORDER_SECRET_MISSING_FAILURE = 'OrderSecretMissing';

/**
 * A forward step's local attempt did the step but could not write the transition it causes
 * (activities/recorded-steps.ts). Retryable: the saga does the step again (idempotent) and records
 * the transition on its own, as it did before the steps recorded their transitions.
 */
export const STEP_RECORD_NOT_WRITTEN_FAILURE = 'StepRecordNotWritten';
