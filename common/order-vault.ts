import type { Pool, PoolClient } from 'pg';
import type { Db } from './db';

/**
 * The order vault (table order_vault): where an order's personal data and card token wait for
 * the activities that need them, so that neither is ever in the workflow's input, an activity's
 * input or result, or any other Temporal payload. Written by the API before the workflow starts,
 * read by order id, deleted when the order ends; see prisma/schema.prisma (OrderVault).
 */

export interface OrderSecrets {
  orderId: string;
  /** The shop (API client) whose customer this is: customer ids are each shop's own. */
  clientId: string;
  customerId: string;
  customerEmail: string;
  paymentToken: string;
}

/** Stores an order's secrets before its workflow starts. A retried request stores the same again. */
export async function storeOrderSecrets(db: Db, s: OrderSecrets): Promise<void> {
  await db.orderVault.upsert({
    where: { orderId: s.orderId },
    create: { orderId: s.orderId, clientId: s.clientId, customerId: s.customerId, customerEmail: s.customerEmail, paymentToken: s.paymentToken },
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

/** Where the worker reads and forgets secrets: its pool, or the connection of a transaction. */
type Queryable = Pick<Pool | PoolClient, 'query'>;

async function readSecret(db: Queryable, orderId: string, column: 'customer_email' | 'payment_token'): Promise<string | undefined> {
  const { rows } = await db.query<{ secret: string | null }>(`SELECT ${column} AS secret FROM order_vault WHERE order_id = $1::uuid`, [orderId]);
  return rows[0]?.secret ?? undefined;
}

export async function readCustomerEmail(db: Queryable, orderId: string): Promise<string> {
  const email = await readSecret(db, orderId, 'customer_email');
  if (!email) throw new OrderSecretMissingError(orderId, 'customer email');
  return email;
}

export async function readPaymentToken(db: Queryable, orderId: string): Promise<string> {
  const token = await readSecret(db, orderId, 'payment_token');
  if (!token) throw new OrderSecretMissingError(orderId, 'payment token');
  return token;
}

/** Deletes an order's secrets, in the transaction that records its end. */
export async function forgetOrderSecrets(tx: PoolClient, orderId: string): Promise<void> {
  await tx.query('DELETE FROM order_vault WHERE order_id = $1::uuid', [orderId]);
}

/**
 * Deletes secrets older than the retention: those of orders whose workflow never started (the
 * start failed after the API stored them) or has not ended by then. Run by the relay's clean-up.
 */
export async function sweepOrderVault(pool: Pool, retentionMs: number): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM order_vault WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)`, [retentionMs]);
  return rowCount ?? 0;
}
