import { randomUUID } from 'node:crypto';
import {
  ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage, type WorkflowUpdateHandle,
} from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { HttpProblem, problem, validationProblem } from '../../common/http';
import { totalOf } from '../../common/order/lines';
import { discardStoredSecrets, storeOrderSecrets, type OrderSecrets } from '../../common/order-vault';
import { orderStatuses, terminalStatuses, type OrderStatus } from '../../common/order/status';
import {
  cancelOrderUpdate, ORDER_WORKFLOW_TYPE, orderStatusQuery, orderWorkflowId, orderWorkflowStartOptions,
  CancelRefusedError, type CancelOrderResult, type OrderWorkflowInput,
} from '../../common/order/workflow-contract';
import { CLIENT_ID_PATTERN } from '../api-keys';
import { authenticatedClient, isOperator } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotency, keyedRequestOf } from '../idempotency';
import { cancelUpdateIdFor, orderIdFor } from '../order-id';
import { CLIENT_MEMO, describeOrderWorkflow, orderNotFound, orderOwnerLookup } from '../order-owner';
import { readOrderRow } from '../order-row';
import { catalogPricer } from '../catalog-pricing';
import { KEYED_START_MEMO, keyedOrderLookup, type KeyedStartMemo } from '../keyed-orders';
import { keyReused, outcomeUnknown, sendAccepted, type AcceptedOrder } from '../order-answers';
import { correlationIdOf } from '../access-log';
import { bindOrderId } from '../../common/correlation-context';
import { createOrderBody, CUSTOMER_ID_PATTERN, duplicateSkus, MAX_LIST_LIMIT, MAX_ORDER_TOTAL_CENTS, orderIdParam } from '../schemas';

function parseOrderId(req: Request): string {
  const id = orderIdParam.safeParse(req.params.orderId);
  if (!id.success) throw validationProblem(id.error, 'order id');
  return id.data;
}

const listQuery = z.strictObject({
  status: z.enum(orderStatuses).optional(),
  // Checked like a customer id: any other text (a NUL byte, say) could match no order, and Postgres refuses some.
  customerId: z.string().regex(CUSTOMER_ID_PATTERN, 'must be 1-128 characters of letters, digits and ._:@-').optional(),
  limit: z.string().regex(/^\d{1,3}$/, `must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
    .transform(Number).pipe(z.number().int().min(1).max(MAX_LIST_LIMIT)).default(20),
  cursor: z.string().min(1).max(200).optional(),
  /** Operators only (a shop sees its own orders): one client's orders. */
  clientId: z.string().regex(CLIENT_ID_PATTERN).optional(),
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
      // Well-formed for the schema, but not one of ours: 422, as for the other rules the schema cannot state.
      throw problem(422, 'invalid-cursor', 'Invalid cursor', 'Pass back the nextCursor value of a previous page unchanged.');
    }
  },
};

/**
 * The failure types a refusal by the cancel validator arrives with: Temporal names an error thrown
 * in workflow code after its class, older SDKs after its `name`.
 */
const CANCEL_REFUSED_TYPES = new Set([CancelRefusedError.name, new CancelRefusedError('').name]);

/** Thin REST layer over the order workflow: validate, price, start, signal; read from the database. */
export function ordersRouter({
  db, pool, temporal, inventory, taskQueue, logger, paymentConfirmationTimeoutMs, idempotencyKeyTtlMs, temporalCallTimeoutMs,
}: ApiDeps): Router {
  const router = Router();
  const keyed = idempotency(pool, idempotencyKeyTtlMs, logger);
  /** Every call to Temporal ends by its deadline: a Temporal that answers late, or not at all, holds no request open. */
  const withDeadline = <T>(call: () => Promise<T>): Promise<T> => temporal.withDeadline(Date.now() + temporalCallTimeoutMs, call);

  const placedBefore = keyedOrderLookup(pool, temporal, logger, temporalCallTimeoutMs);
  /** Whether the order's workflow is known to have ended (false when that cannot be learnt now). */
  const workflowEnded = async (orderId: string): Promise<boolean> =>
    describeOrderWorkflow(temporal, orderId, temporalCallTimeoutMs).then((d) => d.status.name !== 'RUNNING', () => false);
  const priced = catalogPricer(inventory, logger);
  const ownerOf = orderOwnerLookup(temporal, logger, temporalCallTimeoutMs);

  // Temporal is asked before a keyed start only when the key was held before: see api/keyed-orders.ts.
  router.post('/orders', keyed, async (req, res) => {
    const body = createOrderBody.safeParse(req.body);
    if (!body.success) throw validationProblem(body.error);
    const order = body.data;
    const repeated = duplicateSkus(order.items);
    if (repeated.length > 0) {
      throw problem(422, 'duplicate-sku', 'SKU listed more than once',
        `Each SKU may appear once per order; add up the quantities of ${repeated.join(', ')} into one line.`, { skus: repeated });
    }
    const { clientId } = authenticatedClient(res);
    // With a key, the order id comes from (client, key): every attempt of this request names the same order.
    const keyedReq = keyedRequestOf(res);
    const orderId = keyedReq ? orderIdFor(keyedReq.clientId, keyedReq.key) : randomUUID();
    bindOrderId(orderId);
    // Temporal is asked before the start only when an earlier request held this key (see above the route).
    const earlier = keyedReq && await placedBefore(orderId, keyedReq, order, res, keyedReq.heldBefore === true);
    if (earlier) return void sendAccepted(res, earlier);

    const lines = await priced(order);
    const totalCents = totalOf(lines);
    if (totalCents > MAX_ORDER_TOTAL_CENTS) {
      throw problem(422, 'order-total-too-large', 'Order total too large',
        `The order comes to ${totalCents} ${order.currency} minor units; one order may come to at most ${MAX_ORDER_TOTAL_CENTS}. Split it into smaller orders.`,
        { totalCents, maxTotalCents: MAX_ORDER_TOTAL_CENTS });
    }
    if (totalCents < 1) {
      throw problem(422, 'order-total-zero', 'Nothing to pay',
        'The order comes to 0, and a payment is at least 1 minor unit: it cannot be placed on its own.', { totalCents });
    }

    const correlationId = correlationIdOf(res);
    // The email and the card token wait in the order vault; the workflow and its activities see ids only.
    const secrets: OrderSecrets = { orderId, clientId, customerId: order.customerId, customerEmail: order.customerEmail, paymentToken: order.payment.token };
    const stored = await storeOrderSecrets(pool, secrets);
    // Another request's secrets under this order id: an earlier request with this key and another body.
    if (stored === 'different') {
      if (keyedReq) throw keyReused();
      throw new Error(`order ${orderId} (a random id) already has secrets in the order vault; not placing it`);
    }
    const input: OrderWorkflowInput = {
      orderId, clientId, customerId: order.customerId, currency: order.currency, lines, totalCents, correlationId, paymentConfirmationTimeoutMs,
      ...(keyedReq && { requestHash: keyedReq.requestHash }),
    };
    const accepted: AcceptedOrder = { orderId, totalCents, currency: order.currency, correlationId };
    const memo = {
      [CLIENT_MEMO]: clientId,
      ...(keyedReq && { [KEYED_START_MEMO]: { requestHash: keyedReq.requestHash, totalCents, currency: order.currency, correlationId } satisfies KeyedStartMemo }),
    };
    try {
      await withDeadline(() => temporal.workflow.start(ORDER_WORKFLOW_TYPE, { ...orderWorkflowStartOptions(input, taskQueue), memo }));
    } catch (err) {
      // "Already started" for a keyed order: an earlier attempt started it a moment ago (or runs still).
      if (keyedReq && err instanceof WorkflowExecutionAlreadyStartedError) {
        let first: AcceptedOrder | undefined;
        try {
          first = await placedBefore(orderId, keyedReq, order, res, true);
        } catch (refused) {
          // The secrets this request stored are not the earlier order's, but they may hold the very values
          // that order needs (a concurrent attempt of it may have found them 'same'): discard them only once
          // that order's workflow has ended and will read the vault no more. Otherwise the vault sweep does.
          if (stored === 'stored' && refused instanceof HttpProblem && refused.problem.status === 422 && await workflowEnded(orderId)) {
            await discardStoredSecrets(pool, secrets).catch((discardErr: unknown) => logger.error({ err: discardErr, orderId }, 'could not discard the secrets of a refused request; the vault sweep removes them'));
          }
          throw refused;
        }
        if (first) return void sendAccepted(res, first);
      }
      // A timeout or a broken connection does not say the start did not happen.
      logger.error({ err, orderId }, 'order workflow start not confirmed; its outcome is unknown');
      throw outcomeUnknown(res, 'start', orderId, keyedReq !== undefined);
    }
    sendAccepted(res, accepted);
  });

  router.get('/orders', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) throw validationProblem(q.error, 'query');
    const after = q.data.cursor ? cursorCodec.decode(q.data.cursor) : undefined;
    // A shop lists its own orders; an operator every client's, or one client's.
    const self = authenticatedClient(res).clientId;
    if (!isOperator(res) && q.data.clientId !== undefined && q.data.clientId !== self) {
      throw problem(403, 'forbidden', 'Not allowed for this API key', 'A shop lists its own orders only; leave clientId out.');
    }
    const clientId = isOperator(res) ? q.data.clientId : self;
    const rows = await db.order.findMany({
      where: {
        ...(clientId ? { clientId } : {}),
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
        orderId: o.id, status: o.status, clientId: o.clientId, customerId: o.customerId, currency: o.currency, totalCents: o.totalCents,
        ...(o.cancelReasonCode ? { reasonCode: o.cancelReasonCode } : {}), createdAt: o.createdAt, updatedAt: o.updatedAt,
      })),
      nextCursor: rows.length > q.data.limit && last ? cursorCodec.encode(last.createdAt, last.id) : null,
    });
  });

  router.get('/orders/:orderId', async (req, res) => {
    const orderId = parseOrderId(req);
    bindOrderId(orderId);
    const row = await readOrderRow(pool, orderId);
    if (!isOperator(res) && await ownerOf(orderId, row, res) !== authenticatedClient(res).clientId) throw orderNotFound(orderId);
    const terminal = row ? terminalStatuses.has(row.status) : false;
    // While the saga runs, its live state is the truth; afterwards the database is.
    const live = terminal ? undefined
      : await withDeadline(() => temporal.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery)).catch(() => undefined);
    if (!row && !live) throw orderNotFound(orderId);
    res.json({
      orderId,
      status: live?.status ?? row!.status,
      ...(row ? {
        clientId: row.clientId,
        customerId: row.customerId,
        currency: row.currency,
        totalCents: row.totalCents,
        correlationId: row.correlationId,
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

  /**
   * The update's result if the server sent it together with the acceptance, else undefined, without
   * waiting: a rejected update (the validator refused) comes back completed, and result() throws
   * its WorkflowUpdateFailedError at once; an accepted one has no outcome yet, and result() would
   * ask the server and wait for it (for every undo). A deadline already past makes that question
   * fail at once instead.
   */
  async function resultIfKnown<T>(update: WorkflowUpdateHandle<T>): Promise<T | undefined> {
    try {
      return await temporal.withDeadline(Date.now() - 1, () => update.result());
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
      throw err;
    }
  }

  /** What a recorded order says of a customer's cancel: CANCELLED by the customer, or nothing yet. */
  function customerCancelled(row: { status: OrderStatus; cancelReasonCode: string | null } | null) {
    return row?.status === 'CANCELLED' && row.cancelReasonCode === 'CUSTOMER_CANCELLED'
      ? { status: 'CANCELLED' as const, reasonCode: 'CUSTOMER_CANCELLED' as const } : undefined;
  }

  /** 202 once the cancel is accepted; the undos run on, and the order's Location shows when it is CANCELLED. */
  function sendCancelAccepted(res: Response, orderId: string, done?: Pick<CancelOrderResult, 'status' | 'reasonCode'> & { refunded?: boolean }): void {
    res.status(202).location(`/orders/${orderId}`).json({ orderId, cancelRequested: true, ...done });
  }

  router.post('/orders/:orderId/cancel', keyed, async (req, res) => {
    const orderId = parseOrderId(req);
    const keyedReq = keyedRequestOf(res);
    // Only the client that placed an order cancels it (an operator cancels the workflow: OPERATOR_CANCELLED).
    const owner = await ownerOf(orderId, await db.order.findUnique({ where: { id: orderId }, select: { clientId: true } }), res);
    if (owner !== undefined && owner !== authenticatedClient(res).clientId) {
      if (!isOperator(res)) throw orderNotFound(orderId);
      throw problem(403, 'forbidden', 'Not your order to cancel',
        'Only the client that placed an order cancels it through the API. An operator cancels the order\'s workflow (Web UI or temporal workflow cancel), which records OPERATOR_CANCELLED.');
    }
    const refuse = (status: OrderStatus | string, why: string) =>
      problem(409, 'cancel-refused', 'Order can no longer be cancelled', why, { orderId, orderStatus: status });
    let unconfirmed = false;
    let accepted: { done?: CancelOrderResult } | undefined;
    try {
      const update = await withDeadline(() => temporal.workflow.getHandle(orderWorkflowId(orderId)).startUpdate(cancelOrderUpdate, {
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        // A retry with the same key joins the first request's update instead of sending another.
        updateId: keyedReq ? cancelUpdateIdFor(keyedReq.clientId, keyedReq.key) : randomUUID(),
      }));
      accepted = { done: await resultIfKnown(update) };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const current = await db.order.findUnique({ where: { id: orderId }, select: { status: true } });
        // The validator's reason is ours to show (common/order/status.ts); anything else is not.
        const reason = err.cause instanceof ApplicationFailure && CANCEL_REFUSED_TYPES.has(err.cause.type ?? '') ? err.cause.message : 'The order can no longer be undone.';
        throw refuse(current?.status ?? 'UNKNOWN', reason);
      }
      // Not found: the workflow has finished (or never existed). Anything else: no answer in time.
      unconfirmed = !(err instanceof WorkflowNotFoundError);
      if (unconfirmed) logger.warn({ err, orderId }, 'cancel not confirmed by the workflow engine; answering from the database');
    }
    if (accepted) {
      const { done } = accepted;
      if (done) return void sendCancelAccepted(res, orderId, { status: done.status, reasonCode: done.reasonCode, refunded: done.refunded });
      // Accepted (or joined an update accepted before): the order may be recorded CANCELLED already.
      const recorded = await db.order.findUnique({ where: { id: orderId }, select: { status: true, cancelReasonCode: true } }).catch(() => null);
      return void sendCancelAccepted(res, orderId, customerCancelled(recorded));
    }
    const row = await db.order.findUnique({ where: { id: orderId } });
    const cancelled = customerCancelled(row);
    if (cancelled) return void sendCancelAccepted(res, orderId, cancelled);
    if (row && terminalStatuses.has(row.status)) {
      throw refuse(row.status, `Order is ${row.status}${row.cancelReasonCode ? ` (${row.cancelReasonCode})` : ''} and can no longer be cancelled.`);
    }
    if (!row && !unconfirmed) throw orderNotFound(orderId);
    throw outcomeUnknown(res, 'cancel', orderId, keyedReq !== undefined);
  });

  return router;
}
