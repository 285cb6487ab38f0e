import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../common/db';
import type { EventType } from '../common/events';
import { INVALID_TRANSITION_FAILURE, ORDER_SECRET_MISSING_FAILURE } from '../common/failures';
import { canTransition, eventFor, terminalStatuses, type OrderTransition } from '../common/order/status';
import { LEGACY_CLIENT_ID, type OrderWorkflowInput } from '../common/order/workflow-contract';
import { forgetOrderSecrets, OrderSecretMissingError, readCustomerEmail } from '../common/order-vault';
import { outboxEventCreateInput } from '../common/outbox';
import { Prisma } from '../generated/prisma/client.ts';

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

function outboxRow(e: { id: string; orderId: string; type: EventType; payload: unknown; correlationId: string; causationId: string | null }): Prisma.OutboxEventCreateInput {
  return outboxEventCreateInput(e);
}

export function createOrderStateActivities(db: Db) {
  return {
    /**
     * Creates the order (PENDING) and its OrderPlaced event. Returns the event id. The customer's
     * email comes from the order vault (histories from before it carry it in the request).
     */
    async recordOrderPlaced(req: { order: Omit<OrderWorkflowInput, 'paymentToken'>; eventId: string }): Promise<string> {
      const { order, eventId } = req;
      await db.$transaction(async (tx) => {
        const existing = await tx.outboxEvent.findUnique({ where: { id: eventId }, select: { id: true } });
        if (existing) return;
        const customerEmail = order.customerEmail ?? await readCustomerEmail(tx, order.orderId).catch((err: unknown) => {
          throw err instanceof OrderSecretMissingError
            ? ApplicationFailure.create({ message: err.message, type: ORDER_SECRET_MISSING_FAILURE, nonRetryable: true }) : err;
        });
        await tx.order.create({
          data: {
            id: order.orderId,
            clientId: order.clientId ?? LEGACY_CLIENT_ID,
            customerId: order.customerId,
            customerEmail,
            currency: order.currency,
            status: 'PENDING',
            totalCents: order.totalCents,
            correlationId: order.correlationId,
            lines: { create: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceCents: l.unitPriceCents })) },
          },
        });
        await tx.outboxEvent.create({
          data: outboxRow({
            id: eventId, orderId: order.orderId, type: 'OrderPlaced', correlationId: order.correlationId, causationId: order.correlationId,
            payload: {
              customerId: order.customerId, currency: order.currency, totalCents: order.totalCents, lines: order.lines,
              itemCount: order.lines.reduce((n, l) => n + l.quantity, 0),
            },
          }),
        });
      });
      return eventId;
    },

    /** Moves the order to a new status and writes the matching event. Returns the event id. */
    async recordOrderTransition(req: TransitionRequest): Promise<string> {
      const { orderId, eventId, causationId, transition } = req;
      await db.$transaction(async (tx) => {
        // Lock the row first so two writers cannot both pass the transition check, and so a retry
        // whose first attempt is still committing sees that attempt's event once it may go on.
        await tx.$queryRaw`SELECT id FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
        if (await tx.outboxEvent.findUnique({ where: { id: eventId }, select: { id: true } })) return;
        const order = await tx.order.findUnique({ where: { id: orderId }, include: { lines: true } });
        if (!order) throw ApplicationFailure.create({ message: `Order ${orderId} does not exist`, type: INVALID_TRANSITION_FAILURE, nonRetryable: true });
        if (!canTransition(order.status, transition.to)) {
          throw ApplicationFailure.create({ message: `Order ${orderId} cannot go from ${order.status} to ${transition.to}`, type: INVALID_TRANSITION_FAILURE, nonRetryable: true });
        }
        await tx.order.update({
          where: { id: orderId },
          data: {
            status: transition.to,
            ...(transition.to === 'CANCELLED' || transition.to === 'COMPENSATION_FAILED' ? { cancelReasonCode: transition.reasonCode, cancelReason: transition.reason } : {}),
            ...(transition.to === 'COMPENSATION_FAILED' ? { pendingUndos: transition.pendingUndos } : {}),
          },
        });
        const event = eventFor(order, transition);
        await tx.outboxEvent.create({ data: outboxRow({ id: eventId, orderId, correlationId: order.correlationId, causationId, ...event }) });
        // An ended order needs neither its card token nor a second copy of the email any more.
        if (terminalStatuses.has(transition.to)) await forgetOrderSecrets(tx, orderId);
      });
      return eventId;
    },
  };
}
