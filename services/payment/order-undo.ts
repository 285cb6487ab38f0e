import type { PoolClient } from 'pg';
import type { StoredResponse } from '../shared/idempotency';
import { boundLockWaits, fenceOrder, fenceView, findPaymentsOfOrder, lockOrder, paymentView } from './payment-store';
import { refundPayment, voidPayment } from './settle';

/**
 * The merchant's undo of an order's payment, addressed by order (not by payment), for a saga that
 * may not know what its own late or lost requests did:
 *
 * - Both undos first fence the order (payment.order_fences), under the order's lock: from then on
 *   an authorization for the order is refused (409 order-closed) and so is a capture of its
 *   payment, however late the request arrives. Then they settle whatever the order has by now.
 * - void:   no payment yet → nothing (the fence stops a late one); REQUIRES_CONFIRMATION or
 *           AUTHORIZED → voided; CAPTURED or PARTIALLY_REFUNDED → refunded (the money must not
 *           stay taken); VOIDED → voided; REFUNDED → refunded; only DECLINED → nothing.
 * - refund: CAPTURED or PARTIALLY_REFUNDED → refunded; REFUNDED → refunded; anything else →
 *           nothing (a hold is left for the void undo that follows; the fence stops its capture).
 *
 * The answer is stored under the request's Idempotency-Key like every mutating call, so a retried
 * undo gets the same answer and changes nothing.
 */
export type OrderUndo = 'void' | 'refund';
export type OrderUndoResult = 'voided' | 'refunded' | 'nothing';

export async function undoOrderPayment(tx: PoolClient, orderId: string, undo: OrderUndo, idempotencyKey: string, instance: string): Promise<StoredResponse> {
  await boundLockWaits(tx);
  await lockOrder(tx, orderId);
  const fence = await fenceOrder(tx, orderId, undo);
  const payments = await findPaymentsOfOrder(tx, orderId, true);
  const live = payments.find((p) => p.status !== 'DECLINED');
  const latest = live ?? payments[payments.length - 1];
  let payment: unknown = latest ? paymentView(latest) : null;
  let result: OrderUndoResult = 'nothing';

  /** Runs the payment-level operation in this transaction; with the locks held it cannot be refused. */
  const settle = async (operation: Promise<StoredResponse>, settled: OrderUndoResult) => {
    const answer = await operation;
    if (answer.status !== 200) throw new Error(`${undo} of order ${orderId}: the payment operation was refused: ${JSON.stringify(answer.body)}`);
    payment = answer.body;
    result = settled;
  };
  const req = { paymentId: live?.id ?? '', idempotencyKey, instance };
  switch (live?.status) {
    case 'REQUIRES_CONFIRMATION':
    case 'AUTHORIZED':
      if (undo === 'void') await settle(voidPayment(tx, req), 'voided');
      break;
    case 'CAPTURED':
    case 'PARTIALLY_REFUNDED':
      await settle(refundPayment(tx, req, undefined), 'refunded');
      break;
    case 'REFUNDED':
      result = 'refunded';
      break;
    case 'VOIDED':
      result = undo === 'void' ? 'voided' : 'nothing';
      break;
    default: // no payment, or only declined attempts
      break;
  }
  return { status: 200, body: { orderId, undo, result, payment, fence: fenceView(fence) } };
}
