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
  voidPayment: (orderId: string) => `order/${orderId}/void-payment`,
  refundPayment: (orderId: string) => `order/${orderId}/refund-payment`,
} as const;
