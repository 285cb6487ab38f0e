import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { problem, validationProblem } from '../../common/http';
import { orderWorkflowStartOptions } from '../../common/order-workflow';
import { orderWorkflowId, terminalStatuses, totalOf, type OrderWorkflowInput, type PricedLine } from '../../common/order';
import { orderStatusQuery, orderWorkflow } from '../../workflows';
import { correlationIdHeader, createOrderBody, orderIdParam } from '../schemas';
import type { ApiDeps } from '../app';

function correlationIdOf(req: Request): string {
  const given = correlationIdHeader.safeParse(req.get('x-correlation-id'));
  return given.success ? given.data : randomUUID();
}

/** Thin REST layer over the order workflow: validate, price, start; read from the database. */
export function ordersRouter({ db, temporal, inventory, taskQueue, logger }: ApiDeps): Router {
  const router = Router();

  router.post('/orders', async (req, res) => {
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
    };
    try {
      await temporal.workflow.start(orderWorkflow, orderWorkflowStartOptions(input, taskQueue));
    } catch (err) {
      logger.error({ err, orderId }, 'could not start the order workflow');
      throw problem(503, 'workflow-unavailable', 'Order could not be started', 'The workflow engine did not accept the order; nothing was charged or reserved. Retry later.');
    }
    res.status(202).location(`/orders/${orderId}`).set('x-correlation-id', correlationId)
      .json({ orderId, status: 'PENDING', totalCents: input.totalCents, currency: input.currency });
  });

  router.get('/orders/:orderId', async (req, res) => {
    const id = orderIdParam.safeParse(req.params.orderId);
    if (!id.success) throw validationProblem(id.error, 'order id');
    const orderId = id.data;
    const row = await db.order.findUnique({ where: { id: orderId }, include: { lines: { orderBy: { sku: 'asc' } } } });
    if (row) {
      res.json({
        orderId: row.id,
        status: row.status,
        customerId: row.customerId,
        currency: row.currency,
        totalCents: row.totalCents,
        items: row.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceCents: l.unitPriceCents })),
        ...(row.status === 'CANCELLED' ? { reasonCode: row.cancelReasonCode, reason: row.cancelReason } : {}),
        terminal: terminalStatuses.has(row.status),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      });
      return;
    }
    // Started but not yet recorded: the workflow knows about it before the database does.
    try {
      const live = await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery);
      res.json({ orderId, status: live.status, items: [], totalCents: null, terminal: false });
    } catch {
      throw problem(404, 'order-not-found', 'Order not found', `No order with id ${orderId}.`);
    }
  });

  return router;
}
