import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { problem, validationProblem } from '../../common/http';
import { totalOf, type PricedLine } from '../../common/order/lines';
import { orderStatuses, terminalStatuses, type OrderStatus } from '../../common/order/status';
import {
  cancelOrderUpdate, ORDER_WORKFLOW_TYPE, orderStatusQuery, orderWorkflowId, orderWorkflowStartOptions, type OrderWorkflowInput,
} from '../../common/order/workflow-contract';
import type { ApiDeps } from '../deps';
import { idempotency } from '../idempotency';
import { correlationIdHeader, createOrderBody, orderIdParam } from '../schemas';

function correlationIdOf(req: Request): string {
  const given = correlationIdHeader.safeParse(req.get('x-correlation-id'));
  return given.success ? given.data : randomUUID();
}

function parseOrderId(req: Request): string {
  const id = orderIdParam.safeParse(req.params.orderId);
  if (!id.success) throw validationProblem(id.error, 'order id');
  return id.data;
}

const listQuery = z.strictObject({
  status: z.enum(orderStatuses).optional(),
  customerId: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** Opaque cursor for keyset pagination over (createdAt desc, id desc). */
const cursorCodec = {
  encode: (createdAt: Date, id: string) => Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url'),
  decode(cursor: string): { createdAt: Date; id: string } {
    try {
      const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
      const date = new Date(createdAt);
      if (Number.isNaN(date.getTime()) || !orderIdParam.safeParse(id).success) throw new Error('bad cursor');
      return { createdAt: date, id };
    } catch {
      throw problem(400, 'invalid-cursor', 'Invalid cursor', 'Pass back the nextCursor value of a previous page unchanged.');
    }
  },
};

/** Thin REST layer over the order workflow: validate, price, start, signal; read from the database. */
export function ordersRouter({ db, temporal, inventory, taskQueue, logger, paymentConfirmationTimeoutMs, idempotencyKeyTtlMs }: ApiDeps): Router {
  const router = Router();
  const keyed = idempotency(db, idempotencyKeyTtlMs, logger);

  router.post('/orders', keyed, async (req, res) => {
    const body = createOrderBody.safeParse(req.body);
    if (!body.success) throw validationProblem(body.error);
    const order = body.data;

    // Prices come from the inventory catalog, never from the client.
    const products = await Promise.all(order.items.map((i) => inventory.getProduct(i.sku)));
    const unknown = order.items.filter((_, idx) => !products[idx]).map((i) => i.sku);
    if (unknown.length > 0) {
      throw problem(422, 'unknown-sku', 'Unknown product', `These SKUs are not in the catalog: ${unknown.join(', ')}.`, { skus: unknown });
    }
    const lines: PricedLine[] = order.items.map((i, idx) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: products[idx]!.priceCents }));

    const orderId = randomUUID();
    const correlationId = correlationIdOf(req);
    const input: OrderWorkflowInput = {
      orderId, customerId: order.customerId, customerEmail: order.customerEmail, currency: order.currency,
      lines, totalCents: totalOf(lines), paymentToken: order.payment.token, correlationId,
      paymentConfirmationTimeoutMs,
    };
    try {
      await temporal.workflow.start(ORDER_WORKFLOW_TYPE, orderWorkflowStartOptions(input, taskQueue));
    } catch (err) {
      logger.error({ err, orderId }, 'could not start the order workflow');
      throw problem(503, 'workflow-unavailable', 'Order could not be started', 'The workflow engine did not accept the order; nothing was charged or reserved. Retry later.');
    }
    res.status(202).location(`/orders/${orderId}`).set('x-correlation-id', correlationId)
      .json({ orderId, status: 'PENDING', totalCents: input.totalCents, currency: input.currency });
  });

  router.get('/orders', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) throw validationProblem(q.error, 'query');
    const after = q.data.cursor ? cursorCodec.decode(q.data.cursor) : undefined;
    const rows = await db.order.findMany({
      where: {
        ...(q.data.status ? { status: q.data.status } : {}),
        ...(q.data.customerId ? { customerId: q.data.customerId } : {}),
        ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: q.data.limit + 1,
    });
    const page = rows.slice(0, q.data.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((o) => ({
        orderId: o.id, status: o.status, customerId: o.customerId, currency: o.currency, totalCents: o.totalCents,
        ...(o.cancelReasonCode ? { reasonCode: o.cancelReasonCode } : {}), createdAt: o.createdAt, updatedAt: o.updatedAt,
      })),
      nextCursor: rows.length > q.data.limit && last ? cursorCodec.encode(last.createdAt, last.id) : null,
    });
  });

  router.get('/orders/:orderId', async (req, res) => {
    const orderId = parseOrderId(req);
    const row = await db.order.findUnique({ where: { id: orderId }, include: { lines: { orderBy: { sku: 'asc' } } } });
    const terminal = row ? terminalStatuses.has(row.status) : false;
    // While the saga runs, its live state is the truth; afterwards the database is.
    const live = terminal ? undefined : await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery).catch(() => undefined);
    if (!row && !live) throw problem(404, 'order-not-found', 'Order not found', `No order with id ${orderId}.`);
    res.json({
      orderId,
      status: live?.status ?? row!.status,
      ...(row ? {
        customerId: row.customerId,
        currency: row.currency,
        totalCents: row.totalCents,
        items: row.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceCents: l.unitPriceCents })),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      } : { items: [], totalCents: null }),
      ...(row?.cancelReasonCode ? { reasonCode: row.cancelReasonCode, reason: row.cancelReason } : {}),
      ...(row?.status === 'COMPENSATION_FAILED' ? { pendingUndos: row.pendingUndos } : {}),
      terminal,
      ...(live ? {
        saga: {
          currentStep: live.currentStep, completedSteps: live.completedSteps, pendingUndos: live.pendingUndos ?? [],
          ...(live.paymentConfirmationDeadline ? { paymentConfirmationDeadline: live.paymentConfirmationDeadline } : {}),
          ...(live.cancelRequested ? { cancelRequested: true } : {}),
        },
      } : {}),
    });
  });

  router.post('/orders/:orderId/cancel', keyed, async (req, res) => {
    const orderId = parseOrderId(req);
    const refuse = (status: OrderStatus | string, why: string) =>
      problem(409, 'cancel-refused', 'Order can no longer be cancelled', why, { orderId, orderStatus: status });
    try {
      const result = await temporal.workflow.getHandle(orderWorkflowId(orderId)).executeUpdate(cancelOrderUpdate);
      res.status(202).json(result);
      return;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const current = await db.order.findUnique({ where: { id: orderId }, select: { status: true } });
        throw refuse(current?.status ?? 'UNKNOWN', err.cause?.message ?? 'The order can no longer be undone.');
      }
      logger.debug({ err, orderId }, 'cancel update not delivered; answering from the database');
    }
    // The workflow has finished (or never existed): answer from the recorded outcome.
    const row = await db.order.findUnique({ where: { id: orderId } });
    if (!row) throw problem(404, 'order-not-found', 'Order not found', `No order with id ${orderId}.`);
    if (row.status === 'CANCELLED' && row.cancelReasonCode === 'CUSTOMER_CANCELLED') {
      res.status(202).json({ orderId, status: row.status, reasonCode: row.cancelReasonCode });
      return;
    }
    if (!terminalStatuses.has(row.status)) {
      throw problem(503, 'workflow-unavailable', 'Cancel could not be delivered', 'The workflow engine did not answer; retry with the same Idempotency-Key.');
    }
    throw refuse(row.status, `Order is ${row.status}${row.cancelReasonCode ? ` (${row.cancelReasonCode})` : ''} and can no longer be cancelled.`);
  });

  return router;
}
