import type { Pool, PoolClient } from 'pg';
import type { Queryable } from './pg';

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

/**
 * What storing found: `stored` (a new row), `same` (a row of an earlier attempt of this request,
 * identical) or `different` (a row of another request under the same order id, left as it was).
 */
export type StoreOutcome = 'stored' | 'same' | 'different';

/**
 * Stores an order's secrets before its workflow starts; insert-only. A keyed order's id comes from
 * (client, Idempotency-Key), so a row already here is an earlier attempt's, whose workflow may be
 * running on it: never overwritten (a retry with another body must not swap the email or card of
 * the order that was placed), only compared. One statement on the usual path, a read on a conflict.
 */
export async function storeOrderSecrets(db: Queryable, s: OrderSecrets): Promise<StoreOutcome> {
  const outcome = await insertOrCompare(db, s);
  if (outcome !== 'gone') return outcome;
  // Found on insert but gone when compared (swept or erased meanwhile): stored again, once.
  const again = await insertOrCompare(db, s);
  return again === 'gone' ? 'different' : again;
}

async function insertOrCompare(db: Queryable, s: OrderSecrets): Promise<StoreOutcome | 'gone'> {
  const { rowCount } = await db.query({
    name: 'order-vault-insert',
    text: `INSERT INTO order_vault (order_id, client_id, customer_id, customer_email, payment_token)
           VALUES ($1::uuid, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING`,
    values: [s.orderId, s.clientId, s.customerId, s.customerEmail, s.paymentToken],
  });
  if ((rowCount ?? 0) > 0) return 'stored';
  const { rows } = await db.query<{ same: boolean }>({
    name: 'order-vault-compare',
    text: `SELECT client_id = $2 AND customer_id = $3 AND customer_email IS NOT DISTINCT FROM $4
                  AND payment_token IS NOT DISTINCT FROM $5 AS same
           FROM order_vault WHERE order_id = $1::uuid`,
    values: [s.orderId, s.clientId, s.customerId, s.customerEmail, s.paymentToken],
  });
  if (rows[0] === undefined) return 'gone';
  return rows[0].same ? 'same' : 'different';
}

/** Deletes the secrets `storeOrderSecrets` stored for a request that turned out not to be the order's: only if they are still exactly those. */
export async function discardStoredSecrets(db: Queryable, s: OrderSecrets): Promise<void> {
  await db.query({
    name: 'order-vault-discard',
    text: `DELETE FROM order_vault WHERE order_id = $1::uuid AND client_id = $2 AND customer_id = $3
             AND customer_email IS NOT DISTINCT FROM $4 AND payment_token IS NOT DISTINCT FROM $5`,
    values: [s.orderId, s.clientId, s.customerId, s.customerEmail, s.paymentToken],
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
