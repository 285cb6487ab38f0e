import type { OrderStatus } from '../common/order/status';
import type { Queryable } from '../common/pg';

/** An order as the API reads it by id, with its lines (by sku). */
export interface OrderRow {
  id: string;
  clientId: string;
  customerId: string;
  customerEmail: string;
  currency: string;
  status: OrderStatus;
  totalCents: number;
  cancelReasonCode: string | null;
  cancelReason: string | null;
  pendingUndos: string[];
  correlationId: string;
  /** The keyed request that placed it (null: no key, or recorded before the column). */
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  lines: { sku: string; quantity: number; unitPriceCents: number }[];
}

/**
 * One order and its lines in one statement, over the API's node-postgres pool: read on every
 * GET /orders/{id} and every keyed POST /orders, so no ORM in between. Null when there is none.
 */
export async function readOrderRow(db: Queryable, orderId: string): Promise<OrderRow | null> {
  const { rows: [row] } = await db.query<OrderRow>({
    name: 'api-order-by-id',
    text: `SELECT o.id, o.client_id AS "clientId", o.customer_id AS "customerId", o.customer_email AS "customerEmail",
                  o.currency, o.status, o.total_cents AS "totalCents", o.cancel_reason_code AS "cancelReasonCode",
                  o.cancel_reason AS "cancelReason", o.pending_undos AS "pendingUndos", o.correlation_id AS "correlationId",
                  o.request_hash AS "requestHash", o.created_at AS "createdAt", o.updated_at AS "updatedAt",
                  coalesce((SELECT json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'unitPriceCents', l.unit_price_cents) ORDER BY l.sku)
                            FROM order_lines l WHERE l.order_id = o.id), '[]'::json) AS lines
           FROM orders o WHERE o.id = $1::uuid`,
    values: [orderId],
  });
  return row ?? null;
}
