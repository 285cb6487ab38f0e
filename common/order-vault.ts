import type { Pool } from 'pg';
import type { Db } from './db';

/**
 * The order vault (table order_vault): where an order's personal data and card token wait for
 * the activities that need them, so that neither is ever in the workflow's input, an activity's
 * input or result, or any other Temporal payload. Written by the API before the workflow starts,
 * read by order id, deleted when the order ends; see prisma/schema.prisma (OrderVault).
 */

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

export interface OrderSecrets {
  orderId: string;
  customerId: string;
  customerEmail: string;
  paymentToken: string;
}

/** Stores an order's secrets before its workflow starts. A retried request stores the same again. */
export async function storeOrderSecrets(db: Db, s: OrderSecrets): Promise<void> {
  await db.orderVault.upsert({
    where: { orderId: s.orderId },
    create: { orderId: s.orderId, customerId: s.customerId, customerEmail: s.customerEmail, paymentToken: s.paymentToken },
    update: { customerEmail: s.customerEmail, paymentToken: s.paymentToken },
  });
}

/** Thrown when a secret an activity needs is no longer in the vault (order ended, swept or erased). */
export class OrderSecretMissingError extends Error {
  constructor(readonly orderId: string, readonly what: 'customer email' | 'payment token') {
    super(`The ${what} of order ${orderId} is not in the order vault (the order ended, or its data was swept or erased); `
      + 'the step cannot be done without it. Place the order again.');
    this.name = 'OrderSecretMissingError';
  }
}

export async function readCustomerEmail(db: Db | Tx, orderId: string): Promise<string> {
  const row = await db.orderVault.findUnique({ where: { orderId }, select: { customerEmail: true } });
  if (!row?.customerEmail) throw new OrderSecretMissingError(orderId, 'customer email');
  return row.customerEmail;
}

export async function readPaymentToken(db: Db, orderId: string): Promise<string> {
  const row = await db.orderVault.findUnique({ where: { orderId }, select: { paymentToken: true } });
  if (!row?.paymentToken) throw new OrderSecretMissingError(orderId, 'payment token');
  return row.paymentToken;
}

/** Deletes an order's secrets, in the transaction that records its end. */
export async function forgetOrderSecrets(tx: Tx, orderId: string): Promise<void> {
  await tx.orderVault.deleteMany({ where: { orderId } });
}

/**
 * Deletes secrets older than the retention: those of orders whose workflow never started (the
 * start failed after the API stored them) or has not ended by then. Run by the relay's clean-up.
 */
export async function sweepOrderVault(pool: Pool, retentionMs: number): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM order_vault WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)`, [retentionMs]);
  return rowCount ?? 0;
}
