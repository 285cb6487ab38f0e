import { ApplicationFailure } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { INVALID_TRANSITION_FAILURE, ORDER_SECRET_MISSING_FAILURE } from '../common/failures';
import { canTransition, eventFor, terminalStatuses, type OrderStatus, type OrderTransition } from '../common/order/status';
import { LEGACY_CLIENT_ID, type OrderWorkflowInput } from '../common/order/workflow-contract';
import { forgetOrderSecrets, OrderSecretMissingError, readCustomerEmail } from '../common/order-vault';
import { outboxEventInsert } from '../common/outbox';
import { withTransaction } from '../common/pg';

/**
 * The only place an order's status changes. Each change and the event describing it are written
 * in one database transaction (the transactional outbox). The event id is chosen by the workflow,
 * so a retried activity finds its event already written and changes nothing (idempotency by the
 * outbox's unique event id).
 */

export interface TransitionRequest {
  orderId: string;
  eventId: string;
  causationId: string;
  transition: OrderTransition;
}

/** The order as the transition needs it, read with its row lock. */
interface LockedOrder {
  status: OrderStatus;
  customer_id: string;
  currency: string;
  total_cents: number;
  correlation_id: string;
  lines: { sku: string; quantity: number }[];
}

function invalidTransition(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: INVALID_TRANSITION_FAILURE, nonRetryable: true });
}

async function isRecorded(tx: PoolClient, eventId: string): Promise<boolean> {
  const { rowCount } = await tx.query({ name: 'outbox-event-recorded', text: 'SELECT 1 FROM outbox_events WHERE id = $1::uuid', values: [eventId] });
  return (rowCount ?? 0) > 0;
}

/** The UPDATE for a transition: the new status, and what a failed order keeps of why. */
function statusUpdate(orderId: string, t: OrderTransition): { text: string; values: unknown[] } {
  const values: unknown[] = [orderId, t.to];
  const sets = ['status = $2::"OrderStatus"', 'updated_at = now()'];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (t.to === 'CANCELLED' || t.to === 'COMPENSATION_FAILED') {
    set('cancel_reason_code', t.reasonCode);
    set('cancel_reason', t.reason);
  }
  if (t.to === 'COMPENSATION_FAILED') set('pending_undos', t.pendingUndos);
  return { text: `UPDATE orders SET ${sets.join(', ')} WHERE id = $1::uuid`, values };
}

/**
 * The worker's hottest writes, so plain SQL on node-postgres (one transaction each) rather than
 * Prisma, whose per-query cost bounded the worker's throughput.
 */
export function createOrderStateActivities(pool: Pool) {
  return {
    /**
     * Creates the order (PENDING) and its OrderPlaced event. Returns the event id. The customer's
     * email comes from the order vault (histories from before it carry it in the request).
     */
    async recordOrderPlaced(req: { order: Omit<OrderWorkflowInput, 'paymentToken'>; eventId: string }): Promise<string> {
      const { order, eventId } = req;
      await withTransaction(pool, async (tx) => {
        if (await isRecorded(tx, eventId)) return;
        const customerEmail = order.customerEmail ?? await readCustomerEmail(tx, order.orderId).catch((err: unknown) => {
          throw err instanceof OrderSecretMissingError
            ? ApplicationFailure.create({ message: err.message, type: ORDER_SECRET_MISSING_FAILURE, nonRetryable: true }) : err;
        });
        await tx.query({
          name: 'order-insert',
          text: `INSERT INTO orders (id, client_id, customer_id, customer_email, currency, status, total_cents, correlation_id, request_hash, updated_at)
                 VALUES ($1::uuid, $2, $3, $4, $5, 'PENDING', $6, $7, $8, now())`,
          values: [order.orderId, order.clientId ?? LEGACY_CLIENT_ID, order.customerId, customerEmail, order.currency, order.totalCents, order.correlationId, order.requestHash ?? null],
        });
        await tx.query({
          name: 'order-lines-insert',
          text: `INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents)
                 SELECT $1::uuid, l.sku, l.quantity, l.unit_price_cents FROM unnest($2::text[], $3::int[], $4::int[]) AS l(sku, quantity, unit_price_cents)`,
          values: [order.orderId, order.lines.map((l) => l.sku), order.lines.map((l) => l.quantity), order.lines.map((l) => l.unitPriceCents)],
        });
        await tx.query(outboxEventInsert({
          id: eventId, orderId: order.orderId, type: 'OrderPlaced', correlationId: order.correlationId, causationId: order.correlationId,
          payload: {
            customerId: order.customerId, currency: order.currency, totalCents: order.totalCents, lines: order.lines,
            itemCount: order.lines.reduce((n, l) => n + l.quantity, 0),
          },
        }));
      });
      return eventId;
    },

    /**
     * Moves the order to a new status and writes the matching event. Returns the event id.
     * `givenUp` (activities/recorded-steps.ts, never from a workflow): once it is aborted, nothing
     * is written, and a write under way is rolled back instead of committed.
     */
    async recordOrderTransition(req: TransitionRequest, givenUp?: AbortSignal): Promise<string> {
      const { orderId, eventId, causationId, transition } = req;
      givenUp?.throwIfAborted();
      await withTransaction(pool, async (tx) => {
        // Lock the row first so two writers cannot both pass the transition check, and so a retry
        // whose first attempt is still committing sees that attempt's event once it may go on
        // (hence the event check is a statement of its own, after the lock).
        const { rows } = await tx.query<LockedOrder>({
          name: 'order-lock',
          text: `SELECT o.status, o.customer_id, o.currency, o.total_cents, o.correlation_id,
                        (SELECT coalesce(json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity)), '[]'::json)
                           FROM order_lines l WHERE l.order_id = o.id) AS lines
                   FROM orders o WHERE o.id = $1::uuid FOR UPDATE`,
          values: [orderId],
        });
        if (await isRecorded(tx, eventId)) return;
        const order = rows[0];
        if (!order) throw invalidTransition(`Order ${orderId} does not exist`);
        if (!canTransition(order.status, transition.to)) throw invalidTransition(`Order ${orderId} cannot go from ${order.status} to ${transition.to}`);
        await tx.query(statusUpdate(orderId, transition));
        const event = eventFor({ customerId: order.customer_id, currency: order.currency, totalCents: order.total_cents, lines: order.lines }, transition);
        await tx.query(outboxEventInsert({ id: eventId, orderId, correlationId: order.correlation_id, causationId, ...event }));
        // An ended order needs neither its card token nor a second copy of the email any more.
        if (terminalStatuses.has(transition.to)) await forgetOrderSecrets(tx, orderId);
        givenUp?.throwIfAborted(); // before COMMIT
      });
      return eventId;
    },
  };
}
