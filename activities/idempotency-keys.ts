/**
 * Idempotency keys sent to inventory and payment. Derived only from the order id and the saga
 * step, so an activity retried after a crash (side effect done, result not yet reported) sends
 * the same key and the peer replays its first answer instead of reserving or charging again.
 */
export const idempotencyKeys = {
  reserveStock: (orderId: string) => `order/${orderId}/reserve-stock`,
  releaseStock: (orderId: string) => `order/${orderId}/release-stock`,
  commitStock: (orderId: string) => `order/${orderId}/commit-stock`,
  authorizePayment: (orderId: string) => `order/${orderId}/authorize-payment`,
  capturePayment: (orderId: string) => `order/${orderId}/capture-payment`,
  // The undos address the order (POST /orders/{id}/payment/void|refund), an operation other than
  // the per-payment void/refund these keys were first used for: new keys, so a key stored by the
  // old call is never reused for the new one (which the payment service would answer with 422).
  voidPayment: (orderId: string) => `order/${orderId}/void-order-payment`,
  refundPayment: (orderId: string) => `order/${orderId}/refund-order-payment`,
} as const;
