import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { problem } from '../../common/http';

export type PaymentStatus =
  | 'REQUIRES_CONFIRMATION' | 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type OperationKind = 'authorize' | 'confirm' | 'capture' | 'void' | 'refund';
export type OperationOutcome = 'approved' | 'declined' | 'requires_confirmation' | 'failed';

export interface PaymentRow {
  id: string;
  order_id: string;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  card_label: string;
  decline_code: string | null;
  authorized_cents: number;
  captured_cents: number;
  voided_cents: number;
  refunded_cents: number;
  created_at: Date;
  updated_at: Date;
}

const PAYMENT_COLUMNS = `id, order_id, amount_cents, currency, status, card_label, decline_code,
  authorized_cents, captured_cents, voided_cents, refunded_cents, created_at, updated_at`;

export function paymentView(row: PaymentRow) {
  return {
    paymentId: row.id,
    orderId: row.order_id,
    status: row.status,
    amountCents: row.amount_cents,
    currency: row.currency,
    authorizedCents: row.authorized_cents,
    capturedCents: row.captured_cents,
    voidedCents: row.voided_cents,
    refundedCents: row.refunded_cents,
    card: { label: row.card_label },
    declineCode: row.decline_code,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function paymentNotFound(paymentId: string) {
  return problem(404, 'payment-not-found', 'Payment not found', `There is no payment with id ${paymentId}.`, { paymentId });
}

/**
 * Bounds how long this transaction waits for a lock (the order's, a payment row): past it the
 * request fails with 500 and the caller retries, instead of hanging behind a stuck transaction.
 */
export async function boundLockWaits(tx: PoolClient, timeout = '5s'): Promise<void> {
  await tx.query(`SET LOCAL lock_timeout = '${timeout}'`);
}

/**
 * Serializes everything that decides which payment an order has (authorize, 3-D Secure), whatever
 * Idempotency-Key it comes with, so two authorizations for one order cannot both pass the check.
 */
export async function lockOrder(tx: PoolClient, orderId: string): Promise<void> {
  await tx.query({ name: 'payment-lock-order', text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: [`payment:order:${orderId}`] });
}

/**
 * An order whose payment the merchant undid (void or refund for the order). Written under the
 * order's lock and never removed: from then on the order takes no new authorization and no capture.
 */
export interface OrderFence {
  order_id: string;
  fenced_by: 'void' | 'refund';
  created_at: Date;
}

export async function findFence(db: Pool | PoolClient, orderId: string): Promise<OrderFence | undefined> {
  const { rows } = await db.query<OrderFence>({ name: 'payment-fence', text: 'SELECT order_id, fenced_by, created_at FROM payment.order_fences WHERE order_id = $1', values: [orderId] });
  return rows[0];
}

/** Fences the order (the first undo's name and time are kept); call with the order locked. */
export async function fenceOrder(tx: PoolClient, orderId: string, by: OrderFence['fenced_by']): Promise<OrderFence> {
  await tx.query('INSERT INTO payment.order_fences (order_id, fenced_by) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING', [orderId, by]);
  return (await findFence(tx, orderId))!;
}

export function fenceView(fence: OrderFence) {
  return { fencedBy: fence.fenced_by, fencedAt: fence.created_at.toISOString() };
}

/** The distinct refusal of an authorization or capture for a fenced order (not a decline: the card is not at fault). */
export function orderClosed(fence: OrderFence, attempted: 'authorize' | 'capture', paymentId?: string) {
  return problem(409, 'order-closed', 'Order payment was undone',
    `The merchant undid the payment of order ${fence.order_id} (${fence.fenced_by} at ${fence.created_at.toISOString()}), so it accepts no ${attempted === 'authorize' ? 'new authorization' : 'capture'}. This request most likely arrived late; nothing was ${attempted === 'authorize' ? 'authorized' : 'captured'}.`,
    { orderId: fence.order_id, ...(paymentId ? { paymentId } : {}), ...fenceView(fence) });
}

export async function findPayment(db: Pool | PoolClient, paymentId: string, forUpdate = false): Promise<PaymentRow | undefined> {
  const { rows } = await db.query<PaymentRow>({
    name: `payment-by-id${forUpdate ? '-for-update' : ''}`, text: `SELECT ${PAYMENT_COLUMNS} FROM payment.payments WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, values: [paymentId],
  });
  return rows[0];
}

/** All payment attempts of an order, oldest first; at most one of them is not DECLINED. */
export async function findPaymentsOfOrder(db: Pool | PoolClient, orderId: string, forUpdate = false): Promise<PaymentRow[]> {
  const { rows } = await db.query<PaymentRow>({
    name: `payments-of-order${forUpdate ? '-for-update' : ''}`,
    text: `SELECT ${PAYMENT_COLUMNS} FROM payment.payments WHERE order_id = $1 ORDER BY created_at, id${forUpdate ? ' FOR UPDATE' : ''}`,
    values: [orderId],
  });
  return rows;
}

/** The order's live payment if it has one, else its latest declined attempt. */
export function currentPayment(payments: PaymentRow[]): PaymentRow | undefined {
  return payments.find((p) => p.status !== 'DECLINED') ?? payments[payments.length - 1];
}

export async function insertPayment(tx: PoolClient, row: Omit<PaymentRow, 'id' | 'created_at' | 'updated_at' | 'captured_cents' | 'voided_cents' | 'refunded_cents'> & { card_fingerprint: string }): Promise<PaymentRow> {
  const { rows } = await tx.query<PaymentRow>({
    name: 'payment-insert',
    text: `INSERT INTO payment.payments (id, order_id, amount_cents, currency, status, card_label, card_fingerprint, decline_code, authorized_cents)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PAYMENT_COLUMNS}`,
    values: [randomUUID(), row.order_id, row.amount_cents, row.currency, row.status, row.card_label, row.card_fingerprint, row.decline_code, row.authorized_cents],
  });
  return rows[0]!;
}

/** Applies a state change; the table's CHECK constraints are the last guard on the money columns. */
export async function updatePayment(
  tx: PoolClient,
  paymentId: string,
  changes: Partial<Pick<PaymentRow, 'status' | 'decline_code' | 'authorized_cents' | 'captured_cents' | 'voided_cents' | 'refunded_cents'>>,
): Promise<PaymentRow> {
  const columns = Object.keys(changes) as (keyof typeof changes)[];
  const assignments = columns.map((column, i) => `${column} = $${i + 2}`).join(', ');
  const { rows } = await tx.query<PaymentRow>({
    // One prepared statement per set of columns changed (a handful: capture, void, refund, confirm).
    name: `payment-update-${columns.join('-')}`,
    text: `UPDATE payment.payments SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`,
    values: [paymentId, ...columns.map((column) => changes[column])],
  });
  return rows[0]!;
}

export interface NewOperation {
  paymentId: string | null;
  orderId: string;
  kind: OperationKind;
  amountCents: number;
  currency: string;
  outcome: OperationOutcome;
  declineCode?: string | null;
  idempotencyKey?: string | null;
}

/** Every attempt is on record: approved, declined, waiting for the customer, or refused (failed). */
export async function recordOperation(tx: PoolClient, op: NewOperation): Promise<void> {
  await tx.query({
    name: 'payment-operation-insert',
    text: `INSERT INTO payment.operations (id, payment_id, order_id, kind, amount_cents, currency, outcome, decline_code, idempotency_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    values: [randomUUID(), op.paymentId, op.orderId, op.kind, op.amountCents, op.currency, op.outcome, op.declineCode ?? null, op.idempotencyKey ?? null],
  });
}

interface OperationRow {
  id: string;
  payment_id: string | null;
  kind: OperationKind;
  amount_cents: number;
  currency: string;
  outcome: OperationOutcome;
  decline_code: string | null;
  created_at: Date;
}

export async function findOperationsOfOrder(db: Pool | PoolClient, orderId: string) {
  const { rows } = await db.query<OperationRow>(
    `SELECT id, payment_id, kind, amount_cents, currency, outcome, decline_code, created_at
       FROM payment.operations WHERE order_id = $1 ORDER BY seq`, [orderId]);
  return rows.map((r) => ({
    id: r.id,
    paymentId: r.payment_id,
    kind: r.kind,
    amountCents: r.amount_cents,
    currency: r.currency,
    outcome: r.outcome,
    declineCode: r.decline_code,
    createdAt: r.created_at.toISOString(),
  }));
}

/**
 * Money of all an order's payments. Settled when heldCents is 0 (authorized = captured + voided);
 * netCapturedCents is what the customer finally paid.
 */
export function balanceOf(payments: PaymentRow[]) {
  const sum = (pick: (p: PaymentRow) => number) => payments.reduce((total, p) => total + pick(p), 0);
  const authorizedCents = sum((p) => p.authorized_cents);
  const capturedCents = sum((p) => p.captured_cents);
  const voidedCents = sum((p) => p.voided_cents);
  const refundedCents = sum((p) => p.refunded_cents);
  return {
    authorizedCents,
    capturedCents,
    voidedCents,
    refundedCents,
    heldCents: authorizedCents - capturedCents - voidedCents,
    netCapturedCents: capturedCents - refundedCents,
  };
}
