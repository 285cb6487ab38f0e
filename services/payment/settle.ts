import type { PoolClient } from 'pg';
import { problem, type HttpProblem } from '../../common/http';
import type { StoredResponse } from '../shared/idempotency';
import { refusal } from '../shared/idempotent-response';
import {
  boundLockWaits, findFence, findPayment, lockOrder, orderClosed, paymentNotFound, paymentView, recordOperation, updatePayment, type OperationKind, type PaymentRow, type PaymentStatus,
} from './payment-store';

/** Capture, void and refund: what a merchant does with an authorization after the fact. */

export interface SettleRequest {
  paymentId: string;
  idempotencyKey: string;
  instance: string;
}

const ALREADY_CAPTURED: PaymentStatus[] = ['CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/** A refused operation is recorded too (outcome failed), so the operations list shows every attempt. */
async function refuse(tx: PoolClient, payment: PaymentRow, kind: OperationKind, amountCents: number, req: SettleRequest, refused: HttpProblem): Promise<StoredResponse> {
  const declineCode = refused.problem.type.split('/').pop()!.replace(/-/g, '_');
  await recordOperation(tx, {
    paymentId: payment.id, orderId: payment.order_id, kind, amountCents, currency: payment.currency,
    outcome: 'failed', declineCode, idempotencyKey: req.idempotencyKey,
  });
  return refusal(refused, req.instance);
}

async function approve(tx: PoolClient, payment: PaymentRow, kind: OperationKind, amountCents: number, req: SettleRequest, changes: Parameters<typeof updatePayment>[2]): Promise<StoredResponse> {
  const updated = await updatePayment(tx, payment.id, changes);
  await recordOperation(tx, {
    paymentId: payment.id, orderId: payment.order_id, kind, amountCents, currency: payment.currency,
    outcome: 'approved', idempotencyKey: req.idempotencyKey,
  });
  return { status: 200, body: paymentView(updated) };
}

/**
 * AUTHORIZED → CAPTURED. A partial capture releases the rest of the hold (counted as voided).
 * Refused once the order's payment was undone (order fence), however late the request arrives.
 */
export async function capturePayment(tx: PoolClient, req: SettleRequest, requestedCents: number | undefined): Promise<StoredResponse> {
  const found = await findPayment(tx, req.paymentId);
  if (!found) return refusal(paymentNotFound(req.paymentId), req.instance);
  // The order's lock first, then the row, as the order-level undos take them: the fence check and
  // the capture cannot interleave with an undo.
  await boundLockWaits(tx);
  await lockOrder(tx, found.order_id);
  const payment = (await findPayment(tx, req.paymentId, true))!;
  if (ALREADY_CAPTURED.includes(payment.status)) return { status: 200, body: paymentView(payment) };
  const amountCents = requestedCents ?? payment.authorized_cents;
  const fence = await findFence(tx, payment.order_id);
  if (fence) return refuse(tx, payment, 'capture', amountCents, req, orderClosed(fence, 'capture', payment.id));
  if (payment.status !== 'AUTHORIZED') {
    return refuse(tx, payment, 'capture', amountCents, req, problem(409, 'payment-not-capturable', 'Payment cannot be captured',
      `Payment ${payment.id} is ${payment.status}; only an AUTHORIZED payment can be captured.`, { paymentId: payment.id, paymentStatus: payment.status }));
  }
  if (amountCents > payment.authorized_cents) {
    return refuse(tx, payment, 'capture', amountCents, req, problem(409, 'capture-exceeds-authorization', 'Capture exceeds authorization',
      `Cannot capture ${amountCents} cents: only ${payment.authorized_cents} were authorized. Capture at most that, or authorize a new payment.`,
      { paymentId: payment.id, requestedCents: amountCents, authorizedCents: payment.authorized_cents }));
  }
  return approve(tx, payment, 'capture', amountCents, req, {
    status: 'CAPTURED', captured_cents: amountCents, voided_cents: payment.authorized_cents - amountCents,
  });
}

/** AUTHORIZED or REQUIRES_CONFIRMATION → VOIDED: releases the hold; nothing was charged. */
export async function voidPayment(tx: PoolClient, req: SettleRequest): Promise<StoredResponse> {
  const payment = await findPayment(tx, req.paymentId, true);
  if (!payment) return refusal(paymentNotFound(req.paymentId), req.instance);
  if (payment.status === 'VOIDED') return { status: 200, body: paymentView(payment) };
  const heldCents = payment.authorized_cents - payment.captured_cents - payment.voided_cents;
  if (ALREADY_CAPTURED.includes(payment.status)) {
    return refuse(tx, payment, 'void', heldCents, req, problem(409, 'payment-captured', 'Payment already captured',
      `Payment ${payment.id} is ${payment.status}: the money was taken, so it cannot be voided. Refund it instead with POST /payments/${payment.id}/refund.`,
      { paymentId: payment.id, paymentStatus: payment.status }));
  }
  if (payment.status !== 'AUTHORIZED' && payment.status !== 'REQUIRES_CONFIRMATION') {
    return refuse(tx, payment, 'void', heldCents, req, problem(409, 'payment-not-voidable', 'Payment cannot be voided',
      `Payment ${payment.id} is ${payment.status}; nothing is held, so there is nothing to void.`, { paymentId: payment.id, paymentStatus: payment.status }));
  }
  return approve(tx, payment, 'void', heldCents, req, { status: 'VOIDED', voided_cents: payment.voided_cents + heldCents });
}

/** CAPTURED / PARTIALLY_REFUNDED → REFUNDED or PARTIALLY_REFUNDED; never more than was captured. */
export async function refundPayment(tx: PoolClient, req: SettleRequest, requestedCents: number | undefined): Promise<StoredResponse> {
  const payment = await findPayment(tx, req.paymentId, true);
  if (!payment) return refusal(paymentNotFound(req.paymentId), req.instance);
  const remainingCents = payment.captured_cents - payment.refunded_cents;
  // "Refund whatever is left" on a fully refunded payment has nothing left to do.
  if (payment.status === 'REFUNDED' && requestedCents === undefined) return { status: 200, body: paymentView(payment) };
  const amountCents = requestedCents ?? remainingCents;
  if (!ALREADY_CAPTURED.includes(payment.status)) {
    return refuse(tx, payment, 'refund', amountCents, req, problem(409, 'payment-not-refundable', 'Payment cannot be refunded',
      `Payment ${payment.id} is ${payment.status}; only captured money can be refunded${payment.status === 'AUTHORIZED' || payment.status === 'REQUIRES_CONFIRMATION' ? ' (void the authorization instead)' : ''}.`,
      { paymentId: payment.id, paymentStatus: payment.status }));
  }
  if (amountCents > remainingCents) {
    return refuse(tx, payment, 'refund', amountCents, req, problem(409, 'refund-exceeds-capture', 'Refund exceeds captured amount',
      `Cannot refund ${amountCents} cents: ${payment.captured_cents} were captured and ${payment.refunded_cents} already refunded, so at most ${remainingCents} remain.`,
      { paymentId: payment.id, requestedCents: amountCents, capturedCents: payment.captured_cents, refundedCents: payment.refunded_cents, remainingCents }));
  }
  const refundedCents = payment.refunded_cents + amountCents;
  return approve(tx, payment, 'refund', amountCents, req, {
    status: refundedCents === payment.captured_cents ? 'REFUNDED' : 'PARTIALLY_REFUNDED', refunded_cents: refundedCents,
  });
}
